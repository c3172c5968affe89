"""The analytics routes' data set: the stats data set and more weeks, failures, files and
git-host calls."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, insert, update

from base import clock
from db.models import BitbucketApiHistory, IssueProcessingHistory
from tests.api.dataset import add_call, add_file, add_run, seed_known

LONG = "E" * 100  # two errors that differ only after their first 100 characters


def add_failed(engine: Engine, key: str, *, days_ago: int, error: str | None) -> int:
    run = add_run(engine, key=key, days_ago=days_ago, status="failed", duration=2)
    with engine.begin() as conn:
        conn.execute(update(IssueProcessingHistory).where(IssueProcessingHistory.id == run)
                     .values(error_message=error))
    return run


def add_git(engine: Engine, run: int, when: datetime, method: str, status: int | None,
            duration: str | None = "0.200") -> None:
    with engine.begin() as conn:
        conn.execute(insert(BitbucketApiHistory).values(
            history_id=run, created_at=when, api_method=method, endpoint="/src",
            status_code=status, duration_seconds=None if duration is None else Decimal(duration),
            error_message="connection reset" if status is None else None))


def seed_history(engine: Engine) -> dict[str, int]:
    """The stats data set (`seed_known`: runs 5, 3 and 2 days ago and today) and more: runs 9,
    20 and 40 days ago, failures with long and missing errors, a run whose file record is
    made the day after it started, and git-host calls around the last 24 hours."""
    r = dict(seed_known(engine).runs)
    r["w9"] = add_run(engine, key="MAT-20", days_ago=9, status="completed", duration=12)
    r["w9f"] = add_failed(engine, "MAT-21", days_ago=9, error="timeout: the LLM took too long")
    r["w20"] = add_failed(engine, "MAT-22", days_ago=20, error=LONG + " in src/a.cpp")
    r["w20b"] = add_failed(engine, "MAT-23", days_ago=20, error=LONG + " in src/b.py")
    r["w40"] = add_failed(engine, "MAT-24", days_ago=40, error="boom")
    r["none"] = add_failed(engine, "MAT-25", days_ago=1, error=None)
    r["late"] = add_run(engine, key="MAT-26", days_ago=2, status="completed", hour=23)
    for minute in (3, 4, 5):
        add_file(engine, r["r4"], days_ago=3, path="src/b.py", minute=minute)
    add_file(engine, r["w40"], days_ago=40, path="src/c.h", outcome="failed")
    add_file(engine, r["w9"], days_ago=8, path="src/c.h")
    add_file(engine, r["w9f"], days_ago=9, path="src/d.cpp", outcome="failed")
    add_call(engine, r["w40"], days_ago=40, model="gpt-4o", call_type="code_diff", cost="0.5")
    hour = clock.now().replace(minute=0, second=0, microsecond=0)
    for back, minute, method, status, duration in (
            (24, 10, "GET", 200, "0.200"),  # before both windows
            (24, 40, "GET", 200, "0.300"),  # in the seed's last 24 h, not in our 24 whole hours
            (23, 10, "GET", 200, "0.200"), (23, 20, "GET", 404, "0.400"),
            (23, 30, "POST", 201, "1.000"), (1, 5, "POST", None, None),
            (1, 6, "GET", 200, "0.300"), (1, 7, "GET", 200, "0.300"),
            (0, 1, "GET", 500, "0.100")):
        add_git(engine, r["r9"], hour - timedelta(hours=back, minutes=-minute), method, status,
                duration)
    return r
