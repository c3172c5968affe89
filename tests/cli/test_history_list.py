"""`sdb-agent history list` filters by status, issue and time, and shows each run's error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, insert
from typer.testing import CliRunner

from cli.app import app
from db.models import IssueProcessingHistory as Run
from tests.conftest import ConfiguredRuntime

runner = CliRunner()


def add(engine: Engine, key: str, status: str, day: int, error: str | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Run).values(
            issue_key=key, status=status, error_message=error,
            created_at=datetime(2026, 11, day, 9, 30, tzinfo=UTC)))


@pytest.fixture
def three_runs(runtime: ConfiguredRuntime, engine: Engine) -> None:
    add(engine, "MAT-1", "completed", 3)
    add(engine, "MAT-2", "failed", 5, error="budget: over the cap\nsecond line")
    add(engine, "OPS-9", "failed", 7, error="TARGETS_FILE names src/x.cpp, which does not exist")


def listed(*args: str) -> list[str]:
    done = runner.invoke(app, ["history", "list", *args])
    assert done.exit_code == 0, done.output
    return [line for line in done.output.splitlines() if line.strip()]


class TestHistoryList:
    def test_failed_runs_show_the_first_line_of_their_error(self, three_runs: None) -> None:
        lines = listed("--status", "failed")
        assert [line.split()[1] for line in lines if line.startswith("#")] == ["OPS-9", "MAT-2"]
        assert "        error: budget: over the cap" in lines
        assert not any("second line" in line for line in lines)

    def test_issue_and_since_narrow_the_list(self, three_runs: None) -> None:
        assert [line.split()[1] for line in listed("--issue", "MAT-1")] == ["MAT-1"]
        since = [line.split()[1] for line in listed("--since", "2026-11-05")
                 if line.startswith("#")]
        assert since == ["OPS-9", "MAT-2"]
        assert "2026-11-07 09:30Z" in listed("--since", "2026-11-06")[0]

    def test_an_unknown_status_is_one_line_and_exit_1(self, three_runs: None) -> None:
        done = runner.invoke(app, ["history", "list", "--status", "done"])
        assert done.exit_code == 1 and "--status must be one of" in done.output
