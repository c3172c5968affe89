"""A small known history across several UTC days, with the figures it must produce."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Engine, insert

from base import clock
from db.models import (
    BitbucketApiHistory,
    FileModificationHistory,
    IssueProcessingHistory,
    LlmCallHistory,
)


def today() -> date:
    """The product's today: tests using this data set pin the clock (`pinned_clock`)."""
    return clock.today()


def at(days_ago: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(today() - timedelta(days=days_ago), time(hour, minute), tzinfo=UTC)


def add_run(engine: Engine, *, key: str, days_ago: int, status: str,
            duration: float | None = None, files: int = 0, hour: int = 10) -> int:
    created = at(days_ago, hour)
    done = status in ("completed", "failed")
    with engine.begin() as conn:
        return int(conn.execute(insert(IssueProcessingHistory).values(
            issue_key=key, issue_summary=f"summary of {key}", status=status,
            branch_name=f"sdb/{key}", created_at=created, started_at=created,
            completed_at=created + timedelta(seconds=duration or 0) if done else None,
            processing_duration_seconds=None if duration is None else Decimal(str(duration)),
            modified_files_count=files,
            pr_url=f"https://bitbucket.example/pr/{key}" if status == "completed" else None,
            error_message="boom" if status == "failed" else None,
        ).returning(IssueProcessingHistory.id)).scalar_one())


def add_call(engine: Engine, run: int, *, days_ago: int, model: str, call_type: str,
             cost: str | None, cache_hit: bool = False, tokens: tuple[int, int, int] = (80, 20, 0),
             minute: int = 1, hour: int = 10) -> None:
    prompt, completion, cached = tokens
    with engine.begin() as conn:
        conn.execute(insert(LlmCallHistory).values(
            history_id=run, created_at=at(days_ago, hour, minute), call_type=call_type,
            model=model, prompt_tokens=prompt, completion_tokens=completion,
            total_tokens=prompt + completion, cached_tokens=cached,
            estimated_cost=None if cost is None else Decimal(cost), cache_hit=cache_hit,
            duration_seconds=Decimal("1.250")))


def add_api_call(engine: Engine, run: int, *, days_ago: int, status_code: int | None,
                 method: str = "GET") -> None:
    with engine.begin() as conn:
        conn.execute(insert(BitbucketApiHistory).values(
            history_id=run, created_at=at(days_ago, 10, 2), api_method=method,
            endpoint="/repositories/{ws}/{repo}/src", status_code=status_code,
            duration_seconds=Decimal("0.200"),
            error_message=None if status_code and status_code < 400 else "failed"))


def add_file(engine: Engine, run: int, *, days_ago: int, path: str, minute: int = 3,
             outcome: str = "applied") -> None:
    with engine.begin() as conn:
        conn.execute(insert(FileModificationHistory).values(
            history_id=run, created_at=at(days_ago, 10, minute), file_path=path,
            action="modified", outcome=outcome, diff_count=2, hunk_count=1,
            diff_text="--- a\n+++ b\n-x\n+y\n", original_encoding="cp949",
            modified_encoding="cp949", eol_style="crlf",
            original_content="원본", modified_content="수정본", summary="edited"))


@dataclass(frozen=True)
class Known:
    runs: dict[str, int]


def seed_known(engine: Engine) -> Known:
    """Eleven runs over four days (5 and 3 and 2 days ago, and today).

    Completed durations 10, 20 | 30, 40 | 100, 1.5 | 50: nearest-rank p50 30, p95 100, each in
    a bucket of its own so the histogram's figures are exact."""
    r = {
        "r1": add_run(engine, key="MAT-1", days_ago=5, status="completed", duration=10, files=2),
        "r2": add_run(engine, key="MAT-2", days_ago=5, status="completed", duration=20, files=1),
        "r3": add_run(engine, key="MAT-3", days_ago=5, status="failed", duration=5),
        "r4": add_run(engine, key="MAT-4", days_ago=3, status="completed", duration=30, files=3),
        "r5": add_run(engine, key="MAT-5", days_ago=3, status="completed", duration=40, files=1),
        "r6": add_run(engine, key="MAT-6", days_ago=3, status="failed"),
        "r7": add_run(engine, key="MAT-7", days_ago=2, status="completed", duration=100, files=1),
        "r8": add_run(engine, key="MAT-8", days_ago=2, status="completed", duration=1.5),
        "r9": add_run(engine, key="MAT-9", days_ago=0, status="completed", duration=50, files=2,
                      hour=0),
        "r10": add_run(engine, key="MAT-10", days_ago=0, status="processing", hour=0),
        "r11": add_run(engine, key="MAT-11", days_ago=0, status="queued", hour=0),
    }
    calls = [  # run, days ago, model, call type, cost, cache hit
        ("r1", 5, "gpt-4o", "spec_conversion", "0.010", False),
        ("r1", 5, "gpt-4o", "code_diff", "0.020", False),
        ("r2", 5, "local-llama", "code_diff", None, False),
        ("r2", 5, "gpt-4o", "code_diff", "0", True),
        ("r4", 3, "gpt-4o-mini", "code_diff", "0.001", False),
        ("r4", 3, "gpt-4o-mini", "code_diff", "0", True),
        ("r7", 2, "gpt-4o", "code_diff", "0.030", False),
        ("r7", 2, "local-llama", "code_diff", None, False),
        ("r9", 0, "gpt-4o", "spec_conversion", "0.005", False),
        ("r9", 0, "gpt-4o", "spec_conversion", "0", True),
    ]
    for minute, (run, days_ago, model, call_type, cost, hit) in enumerate(calls, start=1):
        hour = 0 if days_ago == 0 else 10
        add_call(engine, r[run], days_ago=days_ago, model=model, call_type=call_type,
                 cost=cost, cache_hit=hit, tokens=(800, 200, 100), minute=minute, hour=hour)
    for run, days_ago, code in (("r1", 5, 201), ("r1", 5, 200), ("r2", 5, 409),
                                ("r4", 3, 500), ("r4", 3, None), ("r9", 0, 200)):
        add_api_call(engine, r[run], days_ago=days_ago, status_code=code)
    for run, days_ago, path in (("r1", 5, "src/MaterialDB.cpp"), ("r1", 5, "src/b.py"),
                                ("r2", 5, "src/MaterialDB.cpp"), ("r9", 0, "src/MaterialDB.cpp")):
        add_file(engine, r[run], days_ago=days_ago, path=path)
    return Known(r)
