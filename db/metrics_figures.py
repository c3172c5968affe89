"""The figures behind GET /metrics, read at scrape time from PostgreSQL so that runs executed by
any worker count: totals from the stats rollup plus live rows (cheap at any history size),
today's git-host calls and webhook deliveries from indexed rows, and today's budget ledger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, Engine, case, func, select

from base import clock
from db.duration_histogram import Histogram, merged
from db.llm_budget import DayLedger, day_ledger
from db.models import BitbucketApiHistory, WebhookDelivery
from db.stats_rollup import LlmGroup, midnight, total_figures


@dataclass(frozen=True)
class MetricFigures:
    runs_by_status: dict[str, int]
    durations: Histogram
    duration_sum: Decimal
    llm: dict[tuple[str, str], LlmGroup]  # (model, call type) -> totals over all days
    webhook_deliveries: dict[str, int]
    git_host_today: dict[str, int]  # status class -> calls
    ledger: DayLedger
    today: date = field(default_factory=clock.today)


def _llm_by_model(groups: list[LlmGroup]) -> dict[tuple[str, str], LlmGroup]:
    out: dict[tuple[str, str], LlmGroup] = {}
    for g in groups:
        seen = out.get((g.model, g.call_type))
        out[(g.model, g.call_type)] = g if seen is None else LlmGroup(
            seen.day, g.model, g.call_type, seen.calls + g.calls, seen.cache_hits + g.cache_hits,
            seen.priced_calls + g.priced_calls, seen.unpriced_calls + g.unpriced_calls,
            seen.cost + g.cost, seen.prompt_tokens + g.prompt_tokens,
            seen.completion_tokens + g.completion_tokens, seen.cached_tokens + g.cached_tokens,
            seen.total_tokens + g.total_tokens)
    return out


def status_class() -> ColumnElement[str]:
    """2xx..5xx by status; `error` for a call that got no answer, `none` for a call that has no
    status by nature (the local git host)."""
    code = BitbucketApiHistory.status_code
    return case((code.is_(None) & BitbucketApiHistory.error_message.is_not(None), "error"),
                (code.is_(None), "none"),
                else_=func.concat(func.div(code, 100), "xx"))


def metric_figures(engine: Engine) -> MetricFigures:
    today = clock.today()
    runs, llm = total_figures(engine, since=None)
    klass = status_class()
    with engine.connect() as conn:
        deliveries = {str(outcome): int(n) for outcome, n in conn.execute(
            select(WebhookDelivery.outcome, func.count()).group_by(WebhookDelivery.outcome))}
        git_host = {str(name): int(n) for name, n in conn.execute(
            select(klass, func.count())
            .where(BitbucketApiHistory.created_at >= midnight(today)).group_by(klass))}
    return MetricFigures(
        runs_by_status={"queued": sum(r.queued for r in runs),
                        "processing": sum(r.processing for r in runs),
                        "completed": sum(r.completed for r in runs),
                        "failed": sum(r.failed for r in runs)},
        durations=merged(r.durations for r in runs),
        duration_sum=sum((r.duration_sum for r in runs), Decimal(0)),
        llm=_llm_by_model(llm), webhook_deliveries=deliveries, git_host_today=git_host,
        ledger=day_ledger(engine, today), today=today)
