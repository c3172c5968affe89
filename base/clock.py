"""The one place product code reads "now" from.

Every date decision (partitions ahead, retention ages, backup pruning, report "yesterday",
stats windows, rollup closing, leases, the reaper) asks this module, never `datetime.now()`
or PostgreSQL's `now()`, so a test can pin the instant with `frozen_at` and its outcome does
not depend on the machine's date, time zone or the database server's clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, tzinfo

_pinned: datetime | None = None


def now() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return _pinned if _pinned is not None else datetime.now(UTC)


def today(tz: tzinfo = UTC) -> date:
    """The current calendar day in `tz` (UTC unless said otherwise)."""
    return now().astimezone(tz).date()


@contextmanager
def frozen_at(instant: datetime) -> Iterator[datetime]:
    """Pin `now()` to `instant` (which must be timezone-aware) for the block."""
    global _pinned
    if instant.tzinfo is None:
        raise ValueError("frozen_at needs a timezone-aware instant")
    previous, _pinned = _pinned, instant.astimezone(UTC)
    try:
        yield _pinned
    finally:
        _pinned = previous
