"""/history, /stats, /stats/daily and /stats/by-route by Jira project and repository."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.api.dataset import add_api_call, add_call, add_run

pytestmark = pytest.mark.usefixtures("pinned_clock")


def seed_routes(engine: Engine) -> None:
    """MAT: two runs to acme/materials and one from before routing; OPS: one to acme/ops."""
    runs = [(add_run(engine, key="MAT-1", days_ago=0, status="completed", duration=10, files=2),
             "acme/materials"),
            (add_run(engine, key="MAT-2", days_ago=1, status="failed"), "acme/materials"),
            (add_run(engine, key="MAT-3", days_ago=5, status="completed", duration=20), None),
            (add_run(engine, key="OPS-1", days_ago=0, status="completed", duration=30, files=1),
             "acme/ops")]
    with engine.begin() as conn:
        for run, repository in runs:
            conn.execute(text("UPDATE issue_processing_history SET repository = :r "
                              "WHERE id = :id"), {"r": repository, "id": run})
    add_call(engine, runs[0][0], days_ago=0, model="gpt-4o-mini", call_type="code_diff",
             cost="0.010")
    add_call(engine, runs[3][0], days_ago=0, model="gpt-4o-mini", call_type="code_diff",
             cost="0.200")
    add_api_call(engine, runs[3][0], days_ago=0, status_code=500)


def test_history_filters_by_project_and_repository(client: TestClient, engine: Engine) -> None:
    seed_routes(engine)
    mat = client.get("/history", params={"project": "MAT"}).json()["items"]
    assert [(r["issue_key"], r["repository"]) for r in mat] == [
        ("MAT-1", "acme/materials"), ("MAT-2", "acme/materials"), ("MAT-3", None)]
    ops = client.get("/history", params={"repository": "acme/ops"}).json()["items"]
    assert [(r["issue_key"], r["project_key"]) for r in ops] == [("OPS-1", "OPS")]
    both = client.get("/history", params={"project": "OPS", "repository": "acme/materials"})
    assert both.json()["items"] == []


def test_stats_of_one_route_count_only_its_runs_and_calls(client: TestClient,
                                                          engine: Engine) -> None:
    seed_routes(engine)
    everything = client.get("/stats").json()
    assert everything["runs"]["total"] == 4 and everything["llm"]["cost_usd"] == 0.21
    ops = client.get("/stats", params={"project": "OPS"}).json()
    assert ops["runs"]["total"] == 1 and ops["files_modified"] == 1
    assert ops["llm"]["calls"] == 1 and ops["llm"]["cost_usd"] == 0.2
    assert ops["bitbucket"] == {"calls": 1, "errors": 1, "error_rate": 1.0}
    mat = client.get("/stats", params={"repository": "acme/materials", "days": 3}).json()
    assert mat["runs"] == {"total": 2, "queued": 0, "processing": 0, "completed": 1,
                                "failed": 1, "success_rate": 0.5}
    assert mat["llm"]["cost_usd"] == 0.01 and mat["bitbucket"]["calls"] == 0
    daily = client.get("/stats/daily", params={"project": "MAT", "days": 2}).json()["items"]
    assert [(d["runs"], d["completed"], d["failed"], d["llm_cost_usd"]) for d in daily] == [
        (1, 1, 0, 0.01), (1, 0, 1, None)]


def test_by_route_breaks_runs_and_cost_down(client: TestClient, engine: Engine) -> None:
    seed_routes(engine)
    items = client.get("/stats/by-route").json()["items"]
    assert [(i["project_key"], i["repository"], i["runs"], i["success_rate"], i["llm_cost_usd"])
            for i in items] == [("MAT", "acme/materials", 2, 0.5, 0.01),
                                ("MAT", None, 1, 1.0, None), ("OPS", "acme/ops", 1, 1.0, 0.2)]
    recent = client.get("/stats/by-route", params={"days": 1, "project": "MAT"}).json()
    assert [(i["repository"], i["runs"]) for i in recent["items"]] == [("acme/materials", 1)]


@pytest.mark.parametrize("route", ["/history", "/stats", "/stats/daily", "/stats/by-route"])
@pytest.mark.parametrize("params", [{"project": "mat"}, {"project": "MAT-1"},
                                    {"project": "A" * 51}, {"repository": ""},
                                    {"repository": "acme/\x00x"}])
def test_a_bad_filter_is_422(client: TestClient, route: str, params: dict[str, str]) -> None:
    assert client.get(route, params=params).status_code == 422
