"""Which verified dumps to keep: the newest of each of the last N days and M ISO weeks.

The newest verified dump is always kept, whatever the numbers say. Unverified rows have no
file (their partial was removed), so they are never candidates.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime


@dataclass(frozen=True)
class DumpInfo:
    id: int
    created_at: datetime
    verified: bool

    @property
    def day(self) -> date:
        """The UTC day of the dump."""
        return self.created_at.astimezone(UTC).date()


def _newest_per_period(
    dumps: list[DumpInfo], period: Callable[[DumpInfo], Hashable], keep: int
) -> set[int]:
    kept: dict[Hashable, int] = {}
    for dump in dumps:  # newest first
        key = period(dump)
        if key not in kept and len(kept) < keep:
            kept[key] = dump.id
    return set(kept.values())


def dumps_to_delete(
    dumps: Iterable[DumpInfo], *, keep_daily: int, keep_weekly: int
) -> set[int]:
    """Ids of verified dumps that fall outside both the daily and the weekly sets."""
    verified = sorted((d for d in dumps if d.verified), key=lambda d: d.created_at, reverse=True)
    if not verified:
        return set()
    keep = {verified[0].id}
    keep |= _newest_per_period(verified, lambda d: d.day, keep_daily)
    keep |= _newest_per_period(
        verified, lambda d: tuple(d.day.isocalendar())[:2], keep_weekly
    )
    return {d.id for d in verified} - keep
