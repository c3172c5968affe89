"""A background heartbeat for an issue run, so a rerun can tell a live run from a dead one."""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from db import issue_runs

logger = logging.getLogger(__name__)


class Heartbeat:
    """Context manager: refreshes the run's heartbeat every `interval` seconds until exit."""

    def __init__(self, engine: Engine, history_id: int, *, interval: float) -> None:
        self.engine, self.history_id, self.interval = engine, history_id, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{history_id}",
                                        daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                issue_runs.heartbeat(self.engine, self.history_id)
            except SQLAlchemyError as exc:
                logger.warning("heartbeat of history %s failed: %s", self.history_id,
                               type(exc).__name__)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
