"""`sdb-agent stats ...` prints the analytics routes' figures as a plain table, or their JSON."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from cli.app import app
from cli.stats import table
from tests.api.analytics_dataset import seed_history
from tests.api.conftest import build_app
from tests.conftest import ConfiguredRuntime

pytestmark = pytest.mark.usefixtures("pinned_clock")
runner = CliRunner()

COMMANDS = [  # command line, the route that answers the same
    (["weekly", "--weeks", "5"], "/stats/weekly?weeks=5"),
    (["top-files", "--limit", "3"], "/stats/top-files?limit=3"),
    (["top-files", "--days", "9"], "/stats/top-files?days=9"),
    (["llm-cost-by-model", "--days", "30"], "/stats/llm-cost/by-model?days=30"),
    (["hourly"], "/stats/hourly?days=7"),
    (["failures", "--limit", "2"], "/stats/failures?limit=2"),
    (["git-host-hourly", "--hours", "48"], "/stats/git-host/hourly?hours=48"),
]


def stats_cli(*args: str) -> str:
    done = runner.invoke(app, ["stats", *args])
    assert done.exit_code == 0, done.output
    return done.output


@pytest.fixture
def client(runtime: ConfiguredRuntime, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.delenv("API_TOKEN", raising=False)
    runtime.set(API_TOKEN=None)
    with TestClient(build_app()) as test_client:
        yield test_client


@pytest.fixture
def history(runtime: ConfiguredRuntime, engine: Engine) -> None:
    seed_history(engine)


class TestStatsCommands:
    @pytest.mark.parametrize(("args", "route"), COMMANDS)
    def test_json_is_the_routes_answer(
        self, history: None, client: TestClient, args: list[str], route: str
    ) -> None:
        assert json.loads(stats_cli(*args, "--json")) == client.get(route).json()

    def test_durations_json_is_the_durations_of_stats(
        self, history: None, client: TestClient
    ) -> None:
        printed = json.loads(stats_cli("durations", "--days", "30", "--json"))
        assert printed == client.get("/stats?days=30").json()["durations"]

    def test_the_table_has_a_header_and_a_line_per_row(self, history: None) -> None:
        lines = stats_cli("failures").splitlines()
        assert lines[0].split() == ["error_preview", "occurrences", "last_seen"]
        assert lines[1].split()[:2] == ["boom", "2"]
        assert lines[3].startswith("-") and len(lines) == 5

    def test_the_table_of_durations_is_one_row(self, history: None) -> None:
        lines = stats_cli("durations").splitlines()
        assert lines[0].split()[:3] == ["measured_runs", "avg_seconds", "p50_seconds"]
        assert len(lines) == 2

    def test_an_empty_answer_says_so(self, runtime: ConfiguredRuntime) -> None:
        assert stats_cli("top-files").splitlines() == ["no rows"]

    @pytest.mark.parametrize("args", [["weekly", "--weeks", "0"], ["top-files", "--limit",
                                      "100000"], ["git-host-hourly", "--hours", "721"],
                                      ["hourly", "--days", "x"]])
    def test_a_bad_value_is_a_usage_error(self, runtime: ConfiguredRuntime,
                                          args: list[str]) -> None:
        done = runner.invoke(app, ["stats", *args])
        assert done.exit_code == 2 and "Invalid value" in done.output

    def test_an_unreachable_database_is_one_line_and_exit_1(
        self, runtime: ConfiguredRuntime
    ) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        runtime.set(DATABASE_URL=f"postgresql://x:pw@127.0.0.1:{port}/z")
        done = runner.invoke(app, ["stats", "weekly"])
        assert done.exit_code == 1
        assert done.output.startswith("error: cannot connect") and ":pw@" not in done.output
        assert len(done.output.strip().splitlines()) == 1


def test_text_columns_are_left_aligned_and_figures_right() -> None:
    assert table([{"path": "a.cpp", "n": 7}, {"path": "long/b.py", "n": 12}]) == [
        "path        n", "a.cpp       7", "long/b.py  12"]
