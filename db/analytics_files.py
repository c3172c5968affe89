"""The repository paths the agent modifies most often.

Every file record counts (applied, unchanged or failed), as in the seed, and on the UTC day its
run was created: `days=N` means the runs created today and the N-1 days before. Unique issues
are the distinct runs among those records, which add up over days because a run has one day.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import Engine, text

from db.analytics_rollup import FILES_BY_DAY
from db.analytics_window import bounds, first_day
from db.stats_figures import midnight


class FileRow(BaseModel):
    file_path: str
    modifications: int
    unique_issues: int
    last_modified: datetime


class TopFiles(BaseModel):
    days: int | None
    since: date | None
    items: list[FileRow]


_TOP_FILES = text(f"""
WITH parts AS (
    SELECT file_path, modifications, issues, last_modified FROM stats_file_total
    WHERE CAST(:whole AS boolean)
    UNION ALL
    SELECT file_path, modifications, issues, last_modified FROM stats_file_daily
    WHERE NOT CAST(:whole AS boolean) AND day >= :start_day AND day < :live_day
    UNION ALL
    SELECT file_path, modifications, issues, last_modified FROM ({FILES_BY_DAY}) live
)
SELECT file_path, sum(modifications) AS modifications, sum(issues) AS issues,
       max(last_modified) AS last_modified
FROM parts GROUP BY file_path ORDER BY modifications DESC, file_path LIMIT :limit""")


def top_files(engine: Engine, *, limit: int, days: int | None,
              use_rollup: bool = True) -> TopFiles:
    """The `limit` paths with the most file records (over all history, or the last `days`)."""
    since = first_day(days) if days is not None else None
    with engine.connect() as conn:
        params = bounds(conn, start=midnight(since) if since else None, use_rollup=use_rollup)
        # all history with a rollup: its per-path totals hold every rolled-up day
        whole = since is None and params["live_from"] != params["start"]
        rows = conn.execute(_TOP_FILES, {**params, "whole": whole, "limit": limit}).all()
    return TopFiles(days=days, since=since, items=[
        FileRow(file_path=r.file_path, modifications=int(r.modifications),
                unique_issues=int(r.issues), last_modified=r.last_modified) for r in rows])
