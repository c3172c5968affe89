"""`maintenance_run` rows: one per maintenance flow run, with the figures it reported.

The row is written when the run starts (status `running`) so a run that dies hard still
leaves a trace, and closed with `succeeded` or `failed` and the error's first line.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, insert, update

from base import clock
from db.models import MaintenanceRun


@contextmanager
def recorded_run(
    engine: Engine, *, flow_name: str, flow_run_id: uuid.UUID | None
) -> Iterator[dict[str, Any]]:
    """Yield a dict of figures to fill; the row is closed with them on exit."""
    with engine.begin() as conn:
        run_id = conn.execute(
            insert(MaintenanceRun)
            .values(flow_name=flow_name, flow_run_id=flow_run_id, status="running")
            .returning(MaintenanceRun.id)
        ).scalar_one()
    figures: dict[str, Any] = {}
    try:
        yield figures
    except BaseException as exc:
        _close(engine, run_id, "failed", figures, _first_line(exc))
        raise
    _close(engine, run_id, "succeeded", figures, None)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:1000]


def _close(
    engine: Engine, run_id: int, status: str, figures: dict[str, Any], error: str | None
) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(MaintenanceRun)
            .where(MaintenanceRun.id == run_id)
            .values(
                status=status,
                finished_at=clock.now(),
                figures=figures,
                error_message=error,
            )
        )
