"""Kill the flow's process with SIGKILL at each step, rerun, and find exactly one branch, one
commit holding every file, one PR and a consistent history.

The first attempt runs as a real `sdb-agent process` process; the stand-ins (in this test
process) hold a chosen request open, so the kill lands at a known step. The rerun happens
after the dead run's heartbeat lease has passed.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from standins.messages import RecordedRequest
from tests.flows.agent import Agent, canned, subprocess_env

CLI = str(Path(sys.executable).parent / "sdb-agent")
SPEC_FILE = "docs/specs/MAT-101.md"
ALL_FILES = [SPEC_FILE, "python/materials.py", "src/MaterialDB.cpp", "src/MaterialDB.h"]


class Hold:
    """Blocks matching work until released; `reached` tells that the process got there."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()

    def wait_here(self) -> None:
        self.reached.set()
        self.release.wait(timeout=120)


def held_answer(hold: Hold, answer: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def respond(request: dict[str, Any]) -> dict[str, Any]:
        hold.wait_here()
        return answer
    return respond


def hold_after_bitbucket(agent: Agent, hold: Hold, method: str, fragment: str) -> None:
    """Let Bitbucket do the work, then hold its answer (the change exists, unacknowledged)."""
    handle = agent.bitbucket.handle

    def holding(request: RecordedRequest) -> Any:
        reply = handle(request)
        if request.method == method and fragment in request.path:
            hold.wait_here()
        return reply

    agent.bitbucket.handle = holding  # type: ignore[method-assign]


def arrange(agent: Agent, step: str) -> Hold:
    hold = Hold()
    answers = canned()
    spec, edits = answers["issue_spec"], answers["file_edits"]
    if step == "after_branch":
        agent.llm.script("issue_spec", held_answer(hold, spec))
    else:
        agent.llm.script("issue_spec", spec)
    for path, reply in edits.items():
        blocked = step == "after_spec" or (step == "mid_files" and path != "src/MaterialDB.h")
        agent.llm.script("file_edits", held_answer(hold, reply) if blocked else reply, path=path)
    if step == "after_commit":
        hold_after_bitbucket(agent, hold, "GET", "/pullrequests")
    if step == "after_pr":
        hold_after_bitbucket(agent, hold, "POST", "/pullrequests")
    return hold


def reached(agent: Agent, step: str, hold: Hold) -> bool:
    if not hold.reached.is_set():
        return False
    if step == "after_branch":
        return agent.bitbucket.branch_tip(agent.branch_name()) is not None
    if step == "mid_files":
        return bool(agent.rows("SELECT 1 FROM file_modification_history "
                               "WHERE file_path = 'src/MaterialDB.h'"))
    return True


def crash_at(agent: Agent, step: str, tmp_path: Path) -> None:
    hold = arrange(agent, step)
    issue_file = tmp_path / "issue.json"
    issue_file.write_text(json.dumps(agent.payload))
    process = subprocess.Popen([CLI, "process", "--issue-file", str(issue_file)],
                               env=subprocess_env(agent), stdout=subprocess.DEVNULL,
                               stderr=open(tmp_path / "child.log", "wb"))
    deadline = time.monotonic() + 120
    while not reached(agent, step, hold):
        assert process.poll() is None, f"the flow ended before reaching {step}"
        assert time.monotonic() < deadline, f"the flow never reached {step}"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    hold.release.set()


@pytest.mark.parametrize("step", ["after_spec", "after_branch", "mid_files", "after_commit",
                                  "after_pr"])
def test_a_rerun_after_a_kill_finishes_with_one_branch_one_commit_one_pr(
    agent: Agent, tmp_path: Path, step: str
) -> None:
    crash_at(agent, step, tmp_path)
    assert [run.status for run in agent.runs()] == ["processing"]
    time.sleep(2.5)  # the dead run's heartbeat lease (RUN_LEASE_SECONDS=2) runs out

    result = agent.run()

    assert result["outcome"] == "completed", result
    branches = subprocess.run(["git", "--git-dir", str(agent.bitbucket.git.path), "for-each-ref",
                               "--format=%(refname:short)", "refs/heads"],
                              capture_output=True, text=True, check=True).stdout.split()
    assert sorted(branches) == sorted(["main", agent.branch_name()])
    main = agent.bitbucket.branch_tip("main")
    assert len(agent.bitbucket.commits_on(agent.branch_name(), since=main)) == 1
    assert agent.changed_paths() == ALL_FILES
    assert len(agent.bitbucket.pull_requests) == 1
    first, second = agent.runs()
    assert first.status == "failed" and "abandoned" in first.error_message
    assert second.status == "completed" and second.pr_url == result["pr"]["url"]
    fresh = agent.rows("SELECT history_id FROM llm_call_history WHERE success AND NOT cache_hit")
    assert len(fresh) == 4, "each LLM answer was paid for exactly once across both attempts"
