"""A local, durable spool for history rows the database did not take.

A paid LLM call whose row cannot be written (the database is down, the pool is exhausted)
must not vanish from the cost figures. The recorder appends such a row to a JSON-lines file
in the data directory, stamped with its real time; the next recorder of any run, and the
reaper, insert what is spooled once the database answers again.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, insert
from sqlalchemy.exc import SQLAlchemyError

from db.models import Base

logger = logging.getLogger(__name__)
_lock = threading.Lock()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "history.jsonl"

    def keep(self, table: Table, values: dict[str, Any]) -> None:
        """Append one row; raises OSError only when the disk refuses as well."""
        line = json.dumps({"table": table.name, "values": {k: _plain(v) for k, v in
                                                            values.items()}}) + "\n"
        with _lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as spool:
                spool.write(line)
                spool.flush()
                os.fsync(spool.fileno())

    def pending(self) -> int:
        if not self.path.exists():
            return 0
        with self.path.open(encoding="utf-8") as spool:
            return sum(1 for _ in spool)

    def replay(self, engine: Engine) -> int:
        """Insert every spooled row in one transaction; returns how many. Rows stay spooled
        when the database is still away."""
        with _lock:
            if not self.path.exists():
                return 0
            rows = [json.loads(line) for line in self.path.read_text(encoding="utf-8")
                    .splitlines() if line.strip()]
            try:
                with engine.begin() as conn:
                    for row in rows:
                        table = Base.metadata.tables[row["table"]]
                        conn.execute(insert(table).values(**row["values"]))
            except SQLAlchemyError as exc:
                logger.warning("%d spooled history row(s) still not written (%s)", len(rows),
                               type(exc).__name__)
                return 0
            self.path.unlink()
        logger.warning("wrote %d history row(s) kept in %s while the database was away",
                       len(rows), self.path)
        return len(rows)
