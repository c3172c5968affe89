"""Read-side queries over the history (CLI `history`, the HTTP API).

Child tables are aggregated each in its own lateral subquery, never joined together in one
GROUP BY, so counts and costs cannot multiply (the seed's `v_recent_issues` bug).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, text

from db.models import (
    BitbucketApiHistory,
    FileModificationHistory,
    IssueProcessingHistory,
    RunStatus,
)
from db.models import LlmCallHistory as Call

CONTENT_COLUMNS = ("original_content", "modified_content")


@dataclass(frozen=True)
class RunFilter:
    status: RunStatus | None = None
    issue_key: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    project_key: str | None = None
    repository: str | None = None


@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended: the last run's (created_at, id)."""

    created_at: datetime
    id: int


_PAGE = """
SELECT r.id, r.issue_key, r.project_key, r.repository, r.issue_summary, r.status,
       r.branch_name, r.pr_url, r.created_at, r.started_at, r.completed_at,
       r.processing_duration_seconds, r.modified_files_count,
       r.error_message, files.n AS file_records, calls.n AS llm_calls,
       calls.cost AS llm_cost, calls.priced AS llm_priced_calls,
       calls.unpriced AS llm_unpriced_calls
FROM (SELECT * FROM issue_processing_history WHERE {where}
      ORDER BY created_at DESC, id DESC LIMIT :limit) r
LEFT JOIN LATERAL (SELECT count(*) AS n FROM file_modification_history f
                   WHERE f.history_id = r.id) files ON true
LEFT JOIN LATERAL (SELECT count(*) AS n, sum(estimated_cost) AS cost,
                          count(estimated_cost) AS priced,
                          count(*) FILTER (WHERE estimated_cost IS NULL AND NOT cache_hit)
                              AS unpriced
                   FROM llm_call_history c WHERE c.history_id = r.id) calls ON true
ORDER BY r.created_at DESC, r.id DESC"""


def list_runs(engine: Engine, *, filters: RunFilter, limit: int,
              after: Cursor | None = None) -> list[dict[str, Any]]:
    """Up to `limit` runs, newest first (created_at, then id), after the cursor if given."""
    where: list[str] = ["true"]
    params: dict[str, Any] = {"limit": limit}
    for column in ("status", "issue_key", "project_key", "repository"):
        if getattr(filters, column) is not None:
            where.append(f"{column} = :{column}")
            params[column] = getattr(filters, column)
    if filters.since is not None:
        where.append("created_at >= :since")
        params["since"] = filters.since
    if filters.until is not None:
        where.append("created_at < :until")
        params["until"] = filters.until
    if after is not None:  # the first condition lets the created_at index bound the scan
        where.append("created_at <= :at AND (created_at, id) < (:at, :id)")
        params.update(at=after.created_at, id=after.id)
    with engine.connect() as conn:
        rows = conn.execute(text(_PAGE.format(where=" AND ".join(where))), params).mappings()
        return [dict(row) for row in rows]


def run_detail(engine: Engine, history_id: int, *,
               include_content: bool = True) -> dict[str, Any] | None:
    """One run with its files, LLM calls and git-host calls, oldest first."""
    with engine.connect() as conn:
        run = conn.execute(select(IssueProcessingHistory).where(
            IssueProcessingHistory.id == history_id)).mappings().first()
        if run is None:
            return None
        children = {}
        for name, model in (("files", FileModificationHistory), ("llm_calls", Call),
                            ("api_calls", BitbucketApiHistory)):
            columns = [c for c in model.__table__.c
                       if include_content or c.name not in CONTENT_COLUMNS]
            children[name] = [dict(r) for r in conn.execute(
                select(*columns).where(model.history_id == history_id)
                .order_by(model.created_at, model.id)).mappings()]
        children["revisions"] = [dict(r) for r in conn.execute(text(_REVISIONS),
                                                               {"id": history_id}).mappings()]
    return {**dict(run), **children}


_REVISIONS = """
SELECT r.id, r.status, r.created_at, r.completed_at, r.modified_files_count, r.error_message,
       (r.issue_data->>'comment_id')::bigint AS comment_id,
       r.result_data->>'commit' AS commit
FROM issue_processing_history r
WHERE r.parent_history_id = :id AND r.run_kind = 'revision'
ORDER BY r.created_at, r.id"""


_FILE_HISTORY = text("""
SELECT f.id, f.created_at, f.history_id, f.file_path, f.action, f.outcome, f.diff_count,
       f.hunk_count, octet_length(f.diff_text) AS diff_bytes, f.original_encoding,
       f.modified_encoding, f.eol_style, f.summary, f.error_message,
       r.issue_key, r.issue_summary, r.status AS run_status, r.pr_url
FROM file_modification_history f JOIN issue_processing_history r ON r.id = f.history_id
WHERE f.file_path = :path
ORDER BY f.created_at DESC, f.id DESC
LIMIT :limit""")


def file_history(engine: Engine, *, file_path: str, limit: int) -> list[dict[str, Any]]:
    """The newest modifications of one repository path across runs, with their run."""
    with engine.connect() as conn:
        rows = conn.execute(_FILE_HISTORY, {"path": file_path, "limit": limit}).mappings()
        return [dict(row) for row in rows]
