"""What every maintenance task shares: the engine, the run id, keyed artifacts."""

from __future__ import annotations

import uuid
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run
from sqlalchemy import Engine

from tasks.runtime import current_runtime


def engine() -> Engine:
    return current_runtime().engine


def current_flow_run_id() -> uuid.UUID | None:
    run_id = flow_run.id
    return uuid.UUID(str(run_id)) if run_id else None


def publish_artifacts(
    *, key: str, markdown: str, table: list[dict[str, Any]], description: str
) -> None:
    """A markdown artifact under `key` and a table under `key-table` (history per key)."""
    create_markdown_artifact(markdown=markdown, key=key, description=description)
    create_table_artifact(
        table=table or [{"note": "nothing to report"}], key=f"{key}-table",
        description=description,
    )
