"""The daily LLM cost report's figures, computed with pandas from one window of calls.

"Yesterday" is the local day in the report's time zone. A call whose cost is NULL and
that is not a cache hit belongs to an unpriced model: it is counted as "unpriced", never
added as $0. Cache hits with no cost did cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

CHART_DAYS = 14
AVERAGE_DAYS = 7
TOP_ISSUES = 10


def local_window(*, first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[first 00:00, last+1 00:00) in the zone, as aware datetimes."""
    return (datetime.combine(first, time(), tz),
            datetime.combine(last + timedelta(days=1), time(), tz))


@dataclass
class CostReport:
    day: date
    timezone: str
    calls: pd.DataFrame
    by_model: pd.DataFrame
    by_call_type: pd.DataFrame
    top_issues: pd.DataFrame
    daily_by_model: pd.DataFrame
    totals: dict[str, float | int | None]
    alerts: list[str] = field(default_factory=list)


def _unpriced(frame: pd.DataFrame) -> pd.Series:
    return frame["estimated_cost"].isna() & ~frame["cache_hit"].astype(bool)


def _priced(calls: pd.DataFrame) -> pd.DataFrame:
    """Cache hits cost $0; unpriced calls stay NaN, so a group of only those has no cost."""
    hits = calls["cache_hit"].astype(bool)
    return calls.assign(
        unpriced=_unpriced(calls),
        estimated_cost=calls["estimated_cost"].where(~hits | calls["estimated_cost"].notna(), 0.0),
    )


def summarize(calls: pd.DataFrame, by: str) -> pd.DataFrame:
    """Cost, calls, tokens, cache-hit rate and unpriced calls per value of `by`."""
    frame = _priced(calls).assign(cache_hit=calls["cache_hit"].astype(bool))
    grouped = frame.groupby(by, sort=False).agg(
        cost_usd=("estimated_cost", lambda s: s.sum(min_count=1)),
        calls=("id", "count"),
        tokens=("total_tokens", lambda s: int(s.fillna(0).sum())),
        cache_hits=("cache_hit", "sum"),
        unpriced_calls=("unpriced", "sum"),
    )
    grouped["cache_hit_rate"] = (grouped["cache_hits"] / grouped["calls"]).round(4)
    grouped = grouped.drop(columns="cache_hits").astype({"unpriced_calls": "int64"})
    return grouped.sort_values("cost_usd", ascending=False, na_position="last").reset_index()


def top_issues(calls: pd.DataFrame) -> pd.DataFrame:
    frame = _priced(calls)
    grouped = frame.groupby(["issue_key", "issue_summary"], dropna=False, sort=False).agg(
        cost_usd=("estimated_cost", lambda s: s.sum(min_count=1)),
        calls=("id", "count"),
        unpriced_calls=("unpriced", "sum"),
    )
    grouped = grouped.astype({"unpriced_calls": "int64"}).reset_index()
    ranked = grouped.sort_values("cost_usd", ascending=False, na_position="last")
    return ranked.head(TOP_ISSUES).reset_index(drop=True)


def _percentile(values: pd.Series, q: float) -> float | None:
    return None if values.empty else round(float(values.quantile(q)), 3)


def build_report(
    window_calls: pd.DataFrame, runs: pd.DataFrame, *, day: date, tz: ZoneInfo,
    budget_usd: float | None,
) -> CostReport:
    """Figures for `day` from calls of the 14 days ending on it and runs finished on it."""
    local_day = window_calls["created_at"].dt.tz_convert(tz).dt.date
    calls = window_calls[local_day == day].reset_index(drop=True)
    previous = window_calls[(local_day >= day - timedelta(days=AVERAGE_DAYS)) & (local_day < day)]
    cost = float(calls["estimated_cost"].sum())
    unpriced = int(_unpriced(calls).sum())
    finished = runs["status"].isin(["completed", "failed"])
    durations = runs.loc[runs["status"] == "completed", "processing_duration_seconds"].dropna()
    totals: dict[str, float | int | None] = {
        "cost_usd": round(cost, 6),
        "calls": len(calls),
        "tokens": int(calls["total_tokens"].fillna(0).sum()),
        "cache_hit_rate": round(float(calls["cache_hit"].astype(bool).mean()), 4)
        if len(calls) else None,
        "unpriced_calls": unpriced,
        "avg7_cost_usd": round(float(previous["estimated_cost"].sum()) / AVERAGE_DAYS, 6),
        "avg7_calls": round(len(previous) / AVERAGE_DAYS, 2),
        "runs_finished": int(finished.sum()),
        "success_rate": round(float((runs["status"] == "completed").sum() / finished.sum()), 4)
        if finished.any() else None,
        "p50_seconds": _percentile(durations, 0.5),
        "p95_seconds": _percentile(durations, 0.95),
    }
    report = CostReport(
        day=day, timezone=str(tz), calls=calls,
        by_model=summarize(calls, "model"), by_call_type=summarize(calls, "call_type"),
        top_issues=top_issues(calls), daily_by_model=daily_cost_by_model(window_calls, tz, day),
        totals=totals,
    )
    if budget_usd is not None and cost > budget_usd:
        report.alerts.append(
            f"ALERT: LLM cost ${cost:,.4f} on {day} is over the daily budget ${budget_usd:,.4f}"
        )
    if unpriced:
        report.alerts.append(
            f"{unpriced} call(s) used unpriced models: their cost is unknown, not $0"
        )
    return report


def daily_cost_by_model(window_calls: pd.DataFrame, tz: ZoneInfo, day: date) -> pd.DataFrame:
    """Priced cost per local day (rows, all 14) and model (columns)."""
    days = [day - timedelta(days=offset) for offset in range(CHART_DAYS - 1, -1, -1)]
    frame = window_calls.assign(day=window_calls["created_at"].dt.tz_convert(tz).dt.date)
    table = frame.pivot_table(
        index="day", columns="model", values="estimated_cost", aggfunc="sum", fill_value=0.0
    ) if len(frame) else pd.DataFrame(index=pd.Index([], name="day"))
    return table.reindex(days, fill_value=0.0)
