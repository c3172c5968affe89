"""Read the LLM calls and issue runs of a time window into pandas, for the cost report.

With a route filter, only the calls and runs of that project or repository (PROJECTS_FILE):
a call belongs to the route of its issue run.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import Engine, text

from db.stats_figures import ANY_ROUTE, RouteFilter, route_match

_ROUTE = route_match("i")  # the calls' issue run, joined as i

CALLS = text("""
SELECT l.id, l.created_at, l.history_id, i.issue_key, i.issue_summary, i.project_key,
       i.repository, l.call_type, l.model,
       l.prompt_tokens, l.completion_tokens, l.total_tokens, l.cached_tokens,
       l.estimated_cost, l.cache_hit, l.success, l.duration_seconds
FROM llm_call_history l LEFT JOIN issue_processing_history i ON i.id = l.history_id
WHERE l.created_at >= :start AND l.created_at < :end AND """ + _ROUTE + """
ORDER BY l.created_at, l.id
""")

RUNS = text("""
SELECT id, issue_key, issue_summary, project_key, repository, status, completed_at,
       processing_duration_seconds, modified_files_count, pr_url,
       flow_run_id::text AS flow_run_id, error_message
FROM issue_processing_history i
WHERE completed_at >= :start AND completed_at < :end AND status IN ('completed', 'failed')
      AND """ + _ROUTE + """
ORDER BY completed_at, id
""")

NUMERIC = ("estimated_cost", "duration_seconds", "processing_duration_seconds")
COUNTS = ("prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens")


def _frame(engine: Engine, query: object, start: datetime, end: datetime,
           route: RouteFilter) -> pd.DataFrame:
    with engine.connect() as conn:
        frame = pd.read_sql(query, conn, params={"start": start, "end": end, **route.params})
    for column in NUMERIC:
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in COUNTS:
        if column in frame:
            frame[column] = frame[column].astype("Int64")
    for column in ("created_at", "completed_at"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def load_calls(engine: Engine, *, start: datetime, end: datetime,
               route: RouteFilter = ANY_ROUTE) -> pd.DataFrame:
    """Every LLM call (with its issue key, summary and route) created in [start, end)."""
    return _frame(engine, CALLS, start, end, route)


def load_runs(engine: Engine, *, start: datetime, end: datetime,
              route: RouteFilter = ANY_ROUTE) -> pd.DataFrame:
    """Issue runs that finished (completed or failed) in [start, end), in finishing order, with
    what the report shows of each: summary, files changed, PR, Prefect run, error."""
    return _frame(engine, RUNS, start, end, route)
