"""The process-issue flow end to end: Bitbucket emulator, LLM stand-in, real PostgreSQL and a
real Prefect API."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

from tests.flows.agent import Agent

pytestmark = pytest.mark.usefixtures("prefect_api")


def artifacts_of(flow_run_id: str) -> dict[str, Any]:
    """The run's artifacts by key (the flow creates only keyed ones). The values are Prefect
    `Artifact`s, typed Any here: Prefect declares `data` as `dict[str, Any] | Any | None`, and
    these tests read the markdown, link and table artifacts' data as the strings they are."""
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(flow_run_id)])))
    return {a.key: a for a in found if a.key is not None}


class TestHappyPath:
    def test_an_issue_becomes_one_branch_one_commit_and_one_pr(self, agent: Agent) -> None:
        agent.script_canned()
        result = agent.run()
        assert result["outcome"] == "completed"
        branch = agent.branch_name()
        commits = agent.bitbucket.commits_on(branch, since=agent.bitbucket.branch_tip("main"))
        assert len(commits) == 1
        assert len(agent.bitbucket.pull_requests) == 1
        pr = next(iter(agent.bitbucket.pull_requests.values()))
        assert pr.title == "MAT-101: Add titanium alloy Ti-6Al-4V to the material DB"
        cpp = agent.bitbucket.file_at(branch, "src/MaterialDB.cpp")
        assert "티타늄 합금".encode("cp949") in cpp and b"\r\n\t{ MAT_TI64," in cpp
        assert agent.bitbucket.file_at(branch, "docs/specs/MAT-101.md").startswith(b"# MAT-101")

    def test_every_step_is_recorded_and_linked_to_prefect_runs(self, agent: Agent) -> None:
        agent.script_canned()
        result = agent.run()
        run = agent.runs()[-1]
        assert (run.status, run.modified_files_count, run.pr_url) == (
            "completed",
            3,
            result["pr"]["url"],
        )
        assert str(run.flow_run_id) == result["flow_run_id"]
        assert run.processing_duration_seconds is not None and run.spec_hash
        files = agent.rows(
            "SELECT file_path, outcome, original_encoding, eol_style, task_run_id "
            "FROM file_modification_history ORDER BY file_path"
        )
        assert [(f.file_path, f.outcome, f.original_encoding, f.eol_style) for f in files] == [
            ("python/materials.py", "applied", "utf-8", "lf"),
            ("src/MaterialDB.cpp", "applied", "cp949", "crlf"),
            ("src/MaterialDB.h", "applied", "cp949", "crlf"),
        ]
        assert all(f.task_run_id for f in files)
        calls = agent.rows("SELECT call_type, task_run_id, estimated_cost FROM llm_call_history")
        assert sorted(c.call_type for c in calls) == ["code_diff"] * 3 + ["spec_conversion"]
        assert all(c.task_run_id and c.estimated_cost is not None for c in calls)
        api = agent.rows("SELECT api_method, endpoint, status_code FROM bitbucket_api_history")
        assert ("POST", "/repositories/{workspace}/{repo_slug}/src", 201) in {tuple(a) for a in api}

    def test_the_run_is_visible_as_artifacts_through_the_prefect_api(self, agent: Agent) -> None:
        agent.script_canned()
        result = agent.run()
        found = artifacts_of(result["flow_run_id"])
        assert {"pr-mat-101", "files-mat-101", "summary-mat-101", "files-progress-mat-101"} <= set(
            found
        )
        assert result["pr"]["url"] in found["pr-mat-101"].data
        assert (found["files-mat-101"].type, found["files-progress-mat-101"].type) == (
            "table",
            "progress",
        )
        assert "src/MaterialDB.cpp" in str(found["files-mat-101"].data)
        assert "LLM cost" in found["summary-mat-101"].data
        assert "| 3 of 3 | 4 | 0 |" in found["summary-mat-101"].data  # files, calls, cache hits
        table = json.loads(found["files-mat-101"].data)
        assert [row["path"] for row in table][-1] == "total"
        assert table[-1]["status"] == "3 of 3 changed" and table[-1]["cost"].startswith("$")
        cpp = next(row for row in table if row["path"] == "src/MaterialDB.cpp")
        assert cpp["summary"] and cpp["hunks"] == 1 and cpp["diff"].startswith("---")
        assert found["files-progress-mat-101"].data == 100.0

    def test_a_second_trigger_reports_already_completed_without_spending(
        self, agent: Agent
    ) -> None:
        agent.script_canned()
        first = agent.run()
        spent = len(agent.llm_requests())
        second = agent.run()
        assert second["outcome"] == "already_completed"
        assert second["pr_url"] == first["pr"]["url"]
        assert len(agent.llm_requests()) == spent
        assert len(agent.bitbucket.pull_requests) == 1

    def test_a_forced_rerun_reuses_branch_commit_and_pr_from_the_cache(self, agent: Agent) -> None:
        agent.script_canned()
        agent.run()
        spent = len(agent.llm_requests())
        again = agent.run(force=True)
        assert again["outcome"] == "completed" and again["commit_reused"] is True
        assert len(agent.llm_requests()) == spent
        assert again["cache_hits"] == again["llm_calls"] == 4
        assert (
            len(
                agent.bitbucket.commits_on(
                    agent.branch_name(), since=agent.bitbucket.branch_tip("main")
                )
            )
            == 1
        )
        assert len(agent.bitbucket.pull_requests) == 1


class TestSharedLimits:
    def test_a_run_creates_the_global_limits_and_holds_them_strictly(
        self, agent: Agent, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from prefect.client.orchestration import get_client

        from tasks.limits import BITBUCKET_LIMIT, LLM_LIMIT

        agent.configure(CONCURRENCY_LIMITS="true", LLM_CONCURRENCY="3")
        agent.script_canned()
        assert agent.run()["outcome"] == "completed"
        with get_client(sync_client=True) as client:
            llm = client.read_global_concurrency_limit_by_name(LLM_LIMIT)
            bitbucket = client.read_global_concurrency_limit_by_name(BITBUCKET_LIMIT)
        assert (llm.limit, llm.active_slots) == (3, 0)
        assert bitbucket.limit == 1000 and bitbucket.slot_decay_per_second == pytest.approx(
            1000 / 3600)



class TestFileConcurrency:
    @pytest.mark.parametrize(("limit", "most"), [("1", 1), ("8", 3)])
    def test_max_file_concurrency_bounds_the_files_edited_at_once(
        self, agent: Agent, monkeypatch: pytest.MonkeyPatch, limit: str, most: int
    ) -> None:
        agent.configure(MAX_FILE_CONCURRENCY=limit)
        agent.script_canned()
        agent.llm.latency = 1.0  # long enough for three edits to overlap when allowed to, also
        # on a loaded machine (the suite runs in two workers)
        assert agent.run()["outcome"] == "completed"
        assert agent.llm.most_in_flight == most
