"""Rows of `file_modification_history`, one per target file per run."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine, insert

from db.models import FileModificationHistory

MAX_STORED_CONTENT = 1_000_000  # characters; larger contents keep only their diff


def _bounded(text: str | None) -> str | None:
    return text if text is not None and len(text) <= MAX_STORED_CONTENT else None


def record_file(engine: Engine, *, history_id: int, task_run_id: uuid.UUID | None, path: str,
                action: str, outcome: str, diff_text: str | None = None, diff_count: int = 0,
                hunk_count: int = 0, original_encoding: str | None = None,
                modified_encoding: str | None = None, eol_style: str | None = None,
                original_content: str | None = None, modified_content: str | None = None,
                summary: str | None = None, error_message: str | None = None) -> None:
    # values as parameters, not `.values(...)`: the statement stays the same, so SQLAlchemy
    # takes it from its cache instead of building a cache key over every value each time
    with engine.begin() as conn:
        conn.execute(insert(FileModificationHistory), dict(
            history_id=history_id, task_run_id=task_run_id, file_path=path, action=action,
            outcome=outcome, diff_text=diff_text, diff_count=diff_count, hunk_count=hunk_count,
            original_encoding=original_encoding, modified_encoding=modified_encoding,
            eol_style=eol_style, original_content=_bounded(original_content),
            modified_content=_bounded(modified_content), summary=summary,
            error_message=error_message))
