"""The daily LLM cost report's figures, computed with pandas from one window of calls.

"Yesterday" is the local day in the report's time zone. A call whose cost is NULL and
that is not a cache hit belongs to an unpriced model: it is counted as "unpriced", never
added as $0. Cache hits with no cost did cost nothing. Each issue run finished on the day
is listed with the cost of all its calls in the window and its links (PR, Prefect run).
Figures are broken down by route (Jira project and repository, PROJECTS_FILE); a report
narrowed to one route compares nothing with the daily budget, which holds across routes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from base.prefect_ui import flow_run_url
from db.stats_figures import ANY_ROUTE, RouteFilter

CHART_DAYS = 14
AVERAGE_DAYS = 7
TOP_ISSUES = 10
SUMMARY_CHARS = 120
REASON_CHARS = 200
COMPARED = ("cost_usd", "calls")  # figures set against each base: `<base>_<figure>` in totals
BASES = {"prev": "previous day", "avg7": "7-day average"}
ROUTE_COLUMNS = ["project_key", "repository"]


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
    by_route: pd.DataFrame
    top_issues: pd.DataFrame
    issue_runs: pd.DataFrame
    failed_runs: pd.DataFrame
    daily_by_model: pd.DataFrame
    totals: dict[str, float | int | None]
    route: RouteFilter = ANY_ROUTE
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


def summarize(calls: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Cost, calls, tokens, cache-hit rate and unpriced calls per value of `by`; a missing
    value (a run recorded before routing) is a group of its own."""
    frame = _priced(calls).assign(cache_hit=calls["cache_hit"].astype(bool))
    grouped = frame.groupby(by, sort=False, dropna=False).agg(
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


def one_line(text: object, limit: int) -> str | None:
    """User or error text as one line of at most `limit` characters, so that it cannot break
    a table row or bury the report under a stack trace."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return None
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _run_url(flow_run_id: object) -> str | None:
    """The Prefect UI page of a run; none for a run recorded without a flow run."""
    return None if flow_run_id is None or pd.isna(flow_run_id) else flow_run_url(str(flow_run_id))


def run_costs(window_calls: pd.DataFrame) -> pd.DataFrame:
    """Calls, cost and unpriced calls per issue run (history id) over the whole window, so a
    run that began before midnight is charged in full."""
    return _priced(window_calls).groupby("history_id").agg(
        calls=("id", "count"),
        cost_usd=("estimated_cost", lambda s: s.sum(min_count=1)),
        unpriced_calls=("unpriced", "sum"),
    )


def issue_runs(runs: pd.DataFrame, window_calls: pd.DataFrame) -> pd.DataFrame:
    """One row per run finished on the day, in finishing order. A run with no calls cost $0;
    one whose calls are all unpriced keeps no cost (NaN), never $0."""
    frame = runs.merge(run_costs(window_calls), how="left", left_on="id", right_index=True)
    called = frame["calls"].notna()
    return pd.DataFrame({
        "issue_key": frame["issue_key"],
        "issue_summary": frame["issue_summary"].map(lambda s: one_line(s, SUMMARY_CHARS)),
        "status": frame["status"],
        "files_changed": frame["modified_files_count"],
        "calls": frame["calls"].fillna(0).astype("int64"),
        "cost_usd": frame["cost_usd"].where(called, 0.0).astype("float64"),
        "unpriced_calls": frame["unpriced_calls"].fillna(0).astype("int64"),
        "pr_url": frame["pr_url"],
        "flow_run_url": frame["flow_run_id"].map(_run_url),
    }).reset_index(drop=True)


def failed_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The day's failed runs with their error on one line: what someone must look at."""
    failed = runs[runs["status"] == "failed"]
    return pd.DataFrame({
        "issue_key": failed["issue_key"],
        "reason": failed["error_message"].map(lambda m: one_line(m, REASON_CHARS)),
        "flow_run_url": failed["flow_run_id"].map(_run_url),
    }).reset_index(drop=True)


def change_pct(current: float, base: float) -> float | None:
    """Percent change from `base`; None when the base is 0, where a ratio means nothing."""
    return None if base == 0 else round((current - base) / base * 100, 1)


def _changes(totals: dict[str, float | int | None]) -> dict[str, float | None]:
    """`<figure>_vs_<base>_pct` for each compared figure and base."""
    return {
        f"{figure}_vs_{base}_pct": change_pct(float(totals[figure] or 0),
                                              float(totals[f"{base}_{figure}"] or 0))
        for figure in COMPARED for base in BASES
    }


def build_report(
    window_calls: pd.DataFrame, runs: pd.DataFrame, *, day: date, tz: ZoneInfo,
    budget_usd: float | None, route: RouteFilter = ANY_ROUTE,
) -> CostReport:
    """Figures for `day` from calls of the 14 days ending on it and runs finished on it (both
    already narrowed to `route`)."""
    local_day = window_calls["created_at"].dt.tz_convert(tz).dt.date
    calls = window_calls[local_day == day].reset_index(drop=True)
    previous = window_calls[(local_day >= day - timedelta(days=AVERAGE_DAYS)) & (local_day < day)]
    day_before = window_calls[local_day == day - timedelta(days=1)]
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
        "prev_cost_usd": round(float(day_before["estimated_cost"].sum()), 6),
        "prev_calls": len(day_before),
        "avg7_cost_usd": round(float(previous["estimated_cost"].sum()) / AVERAGE_DAYS, 6),
        "avg7_calls": round(len(previous) / AVERAGE_DAYS, 2),
        "runs_finished": int(finished.sum()),
        "success_rate": round(float((runs["status"] == "completed").sum() / finished.sum()), 4)
        if finished.any() else None,
        "p50_seconds": _percentile(durations, 0.5),
        "p95_seconds": _percentile(durations, 0.95),
    }
    totals.update(_changes(totals))
    report = CostReport(
        day=day, timezone=str(tz), calls=calls,
        by_model=summarize(calls, "model"), by_call_type=summarize(calls, "call_type"),
        by_route=summarize(calls, ROUTE_COLUMNS),
        top_issues=top_issues(calls), issue_runs=issue_runs(runs, window_calls),
        failed_runs=failed_runs(runs), daily_by_model=daily_cost_by_model(window_calls, tz, day),
        totals=totals, route=route,
    )
    if budget_usd is not None and cost > budget_usd and route == ANY_ROUTE:
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
