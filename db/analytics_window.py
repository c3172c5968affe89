"""Where an analytics window's figures come from, and how they are rounded (as /stats does).

A window starts at an instant (a UTC midnight for days and weeks, the start of a UTC hour for
hours) and runs to now. Its closed days come from the rollup, the rest from live rows: every
analytics query reads the rollup rows in [`:start`, `:live_from`) (for day-keyed rollup tables
[`:start_day`, `:live_day`)) and the live rows in [`:lo`, `:hi`), where `:lo` is the later of
the start and the first day after the rollup.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection

from base import clock
from db.stats_figures import midnight
from db.stats_rollup import rolled_through

EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def bounds(conn: Connection, *, start: datetime | None,
           use_rollup: bool = True) -> dict[str, object]:
    """The query parameters of a window from `start` (None: all history) to now."""
    first = start or EARLIEST
    done = rolled_through(conn) if use_rollup else None
    live = max(first, midnight(done + timedelta(days=1))) if done else first
    return {"start": first, "start_day": first.date(), "live_from": live,
            "live_day": live.date(), "lo": live, "hi": LATEST}


def first_day(days: int) -> date:
    """The first UTC day of a window of `days`: today and the `days - 1` days before it."""
    return clock.today() - timedelta(days=days - 1)


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def mean_seconds(total: Decimal, count: int) -> float | None:
    return round(float(total) / count, 3) if count else None


def usd(cost: Decimal, priced_calls: int) -> float | None:
    """A cost with no priced call behind it is unknown (null), never $0."""
    return float(round(cost, 6)) if priced_calls else None
