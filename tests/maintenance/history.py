"""Insert history rows at chosen times, for the maintenance tests."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import ColumnElement, Engine, insert, select

from db.models import FileModificationHistory, IssueProcessingHistory, LlmCallHistory


def add_issue(engine: Engine, key: str, *, at: datetime, status: str = "completed",
              summary: str | None = None, seconds: float | None = None, files: int = 0,
              pr_url: str | None = None, flow_run_id: UUID | None = None,
              error: str | None = None, repository: str | None = None) -> int:
    with engine.begin() as conn:
        return int(conn.execute(insert(IssueProcessingHistory).values(
            issue_key=key, issue_summary=summary or f"summary of {key}", status=status,
            created_at=at, started_at=at,
            completed_at=at if status in ("completed", "failed") else None,
            processing_duration_seconds=None if seconds is None else Decimal(str(seconds)),
            modified_files_count=files, pr_url=pr_url, flow_run_id=flow_run_id,
            error_message=error, repository=repository,
        ).returning(IssueProcessingHistory.id)).scalar_one())


def add_call(engine: Engine, history_id: int, *, at: datetime, model: str = "gpt-4o-mini",
             cost: str | None = "0.010000", call_type: str = "code_diff",
             cache_hit: bool = False, tokens: int = 1000) -> int:
    with engine.begin() as conn:
        return int(conn.execute(insert(LlmCallHistory).values(
            history_id=history_id, created_at=at, call_type=call_type, model=model,
            prompt_tokens=tokens - 100, completion_tokens=100, total_tokens=tokens,
            estimated_cost=None if cost is None else Decimal(cost), cache_hit=cache_hit,
        ).returning(LlmCallHistory.id)).scalar_one())


def add_file(engine: Engine, history_id: int, *, at: datetime, content: str = "x" * 5000) -> int:
    with engine.begin() as conn:
        return int(conn.execute(insert(FileModificationHistory).values(
            history_id=history_id, created_at=at, file_path="src/MaterialDB.cpp",
            action="modified", original_content=content, modified_content=content + "y",
        ).returning(FileModificationHistory.id)).scalar_one())


def count(engine: Engine, table: type, *where: ColumnElement[bool]) -> int:
    from sqlalchemy import func
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where))
                   .scalar_one())
