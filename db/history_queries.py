"""Read-side queries over the history (CLI `history`, the HTTP API)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select, text

from db.models import BitbucketApiHistory, FileModificationHistory, IssueProcessingHistory
from db.models import LlmCallHistory as Call


def recent_runs(engine: Engine, *, limit: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM v_recent_issues LIMIT :limit"), {"limit": limit})
        return [dict(row._mapping) for row in rows]


def run_detail(engine: Engine, history_id: int) -> dict[str, Any] | None:
    """One run with its files, LLM calls and git-host calls, oldest first."""
    with engine.connect() as conn:
        run = conn.execute(select(IssueProcessingHistory).where(
            IssueProcessingHistory.id == history_id)).mappings().first()
        if run is None:
            return None
        children = {}
        for name, model in (("files", FileModificationHistory), ("llm_calls", Call),
                            ("api_calls", BitbucketApiHistory)):
            children[name] = [dict(r) for r in conn.execute(
                select(model.__table__).where(model.history_id == history_id)
                .order_by(model.created_at, model.id)).mappings()]
    return {**dict(run), **children}
