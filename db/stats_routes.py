"""/stats/by-route: runs and LLM spend per Jira project and repository (PROJECTS_FILE).

Read from the rows (the rollup keeps every route together). A run's LLM calls count with
the run, on the UTC day the run was created; runs recorded before routing have no
repository (null).
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel
from sqlalchemy import Engine, text

from db.stats_figures import ROUTE_MATCH, RouteFilter, midnight


class RouteRow(BaseModel):
    project_key: str | None
    repository: str | None
    runs: int
    completed: int
    failed: int
    success_rate: float | None
    llm_calls: int
    llm_cost_usd: float | None
    llm_unpriced_calls: int


class ByRoute(BaseModel):
    days: int | None
    since: date | None
    items: list[RouteRow]


_BY_ROUTE = text(f"""
SELECT r.project_key, r.repository, count(*) AS runs,
       count(*) FILTER (WHERE r.status = 'completed') AS completed,
       count(*) FILTER (WHERE r.status = 'failed') AS failed,
       coalesce(sum(c.calls), 0) AS llm_calls, sum(c.cost) AS cost,
       coalesce(sum(c.priced), 0) AS priced, coalesce(sum(c.unpriced), 0) AS unpriced
FROM issue_processing_history r
LEFT JOIN LATERAL (SELECT count(*) AS calls, sum(estimated_cost) AS cost,
                          count(estimated_cost) AS priced,
                          count(*) FILTER (WHERE estimated_cost IS NULL AND NOT cache_hit)
                              AS unpriced
                   FROM llm_call_history WHERE history_id = r.id) c ON true
WHERE r.created_at >= :since AND {ROUTE_MATCH}
GROUP BY 1, 2 ORDER BY runs DESC, 1, 2""")


def by_route(engine: Engine, *, days: int | None, since: date | None,
             route: RouteFilter) -> ByRoute:
    params = {"since": midnight(since or date(1, 1, 2)), **route.params}
    with engine.connect() as conn:
        rows = conn.execute(_BY_ROUTE, params).all()
    items = [RouteRow(
        project_key=r.project_key, repository=r.repository, runs=r.runs, completed=r.completed,
        failed=r.failed, success_rate=(round(r.completed / (r.completed + r.failed), 4)
                                       if r.completed + r.failed else None),
        llm_calls=r.llm_calls, llm_cost_usd=float(round(r.cost, 6)) if r.priced else None,
        llm_unpriced_calls=r.unpriced) for r in rows]
    return ByRoute(days=days, since=since, items=items)
