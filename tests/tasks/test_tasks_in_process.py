"""The issue-run tasks called as plain functions (`task.fn`) on a run context: no Prefect
API, a local git repository and this test's own PostgreSQL. Each task rebuilds its clients
from the history id alone, so this is all a task needs."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from base.errors import ConfigError
from base.targets import Target, load_targets
from cli.demo import EXAMPLES, prepare_sample_repo
from db import issue_runs
from tasks.branch import drop_branch_if_empty, ensure_branch
from tasks.commit import commit_changes
from tasks.intake import read_targets
from tests.conftest import ConfiguredRuntime


@pytest.fixture
def repo(tmp_path: Path, runtime: ConfiguredRuntime) -> Path:
    """The demo's sample repository behind the local git host."""
    path = prepare_sample_repo(tmp_path / "repo")
    runtime.set(GIT_PROVIDER="local", LOCAL_REPO_PATH=str(path),
                TARGETS_FILE=str(EXAMPLES / "targets.yaml"))
    return path


@pytest.fixture
def history_id(runtime: ConfiguredRuntime, engine: Engine) -> int:
    claim = issue_runs.claim(engine, issue_key="MAT-7", summary="Add Ti-6Al-4V", issue_data={},
                             spec_hash="h", flow_run_id=None, force=False,
                             lease=timedelta(minutes=5))
    return claim.history_id


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def _calls(engine: Engine, history_id: int) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT api_method || ' ' || endpoint FROM bitbucket_api_history "
            "WHERE history_id = :id ORDER BY id"), {"id": history_id}).scalars())


class TestTasksOnARunContext:
    def test_read_targets_reads_every_target_at_the_head_and_records_the_calls(
        self, repo: Path, history_id: int, engine: Engine
    ) -> None:
        targets = load_targets(EXAMPLES / "targets.yaml").targets
        base, contents = read_targets.fn(history_id, targets, 2)
        assert base.commit == _git(repo, "rev-parse", "main")
        assert contents == [(repo / t.path).read_bytes() for t in targets]
        assert len(_calls(engine, history_id)) == 1 + len(targets)

    def test_a_missing_target_stops_before_any_spend(
        self, repo: Path, history_id: int
    ) -> None:
        with pytest.raises(ConfigError, match="names gone.cpp, which does not exist on main"):
            read_targets.fn(history_id, (Target(path="gone.cpp", instructions="x"),), 1)

    def test_ensure_branch_creates_it_once_and_records_it_on_the_run(
        self, repo: Path, history_id: int, engine: Engine
    ) -> None:
        targets = load_targets(EXAMPLES / "targets.yaml").targets
        base, _ = read_targets.fn(history_id, targets, 1)
        first = ensure_branch.fn(history_id, "sdb/MAT-7", base)
        again = ensure_branch.fn(history_id, "sdb/MAT-7", base)
        assert first == again and first.commit == base.commit
        with engine.connect() as conn:
            assert conn.execute(text("SELECT branch_name FROM issue_processing_history "
                                     "WHERE id = :id"), {"id": history_id}).scalar() == "sdb/MAT-7"
        assert drop_branch_if_empty.fn(history_id, "sdb/MAT-7", base.commit) is True
        assert "sdb/MAT-7" not in _git(repo, "branch", "--list")

    def test_commit_changes_writes_one_commit_and_reuses_it_on_a_rerun(
        self, repo: Path, history_id: int
    ) -> None:
        config = load_targets(EXAMPLES / "targets.yaml")
        base, contents = read_targets.fn(history_id, config.targets, 1)
        branch = ensure_branch.fn(history_id, "sdb/MAT-7", base)
        path = config.targets[0].path
        files = {path: (contents[0] or b"") + b"\n", config.spec_file("MAT-7"): b"# spec\n"}
        made = commit_changes.fn(history_id, branch, base, files, config,
                                 config.spec_file("MAT-7"), "MAT-7: test", "A <a@example.com>")
        assert not made.reused and made.commit == _git(repo, "rev-parse", "sdb/MAT-7")
        rerun = commit_changes.fn(history_id, branch, base, files, config,
                                  config.spec_file("MAT-7"), "MAT-7: test", "A <a@example.com>")
        assert rerun.reused and rerun.commit == made.commit
        assert _git(repo, "rev-list", "--count", "main..sdb/MAT-7") == "1"
