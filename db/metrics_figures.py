"""The figures behind GET /metrics, read at scrape time from PostgreSQL so that runs executed by
any worker count: totals from the stats rollup plus live rows (cheap at any history size),
today's git-host calls and webhook deliveries from indexed rows, today's budget ledger, and
the webhook backlog (deliveries not handed to Prefect yet).

Webhook deliveries are a figure of the day, not a total: retention deletes their rows (the
rollup keeps no count of them), and a total that shrinks reads to Prometheus as a reset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, Engine, case, func, select

from base import clock
from db.duration_histogram import Histogram, merged
from db.llm_budget import DayLedger, day_ledger
from db.models import BitbucketApiHistory, WebhookDelivery
from db.stats_rollup import LlmGroup, midnight, total_figures
from db.webhook_outbox import Backlog, backlog


@dataclass(frozen=True)
class MetricFigures:
    runs_by_status: dict[str, int]
    durations: Histogram
    duration_sum: Decimal
    llm: dict[tuple[str, str], LlmGroup]  # (model, call type) -> totals over all days
    webhook_deliveries_today: dict[str, int]  # outcome -> deliveries
    git_host_today: dict[str, int]  # status class -> calls
    ledger: DayLedger
    webhook_backlog: Backlog


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
    since, until = midnight(today), midnight(today + timedelta(days=1))
    runs, llm = total_figures(engine, since=None)
    klass = status_class()
    with engine.connect() as conn:
        deliveries = {str(outcome): int(n) for outcome, n in conn.execute(
            select(WebhookDelivery.outcome, func.count())
            .where(WebhookDelivery.received_at >= since, WebhookDelivery.received_at < until)
            .group_by(WebhookDelivery.outcome))}
        git_host = {str(name): int(n) for name, n in conn.execute(
            select(klass, func.count())
            .where(BitbucketApiHistory.created_at >= since, BitbucketApiHistory.created_at < until)
            .group_by(klass))}
    return MetricFigures(
        runs_by_status={"queued": sum(r.queued for r in runs),
                        "processing": sum(r.processing for r in runs),
                        "completed": sum(r.completed for r in runs),
                        "failed": sum(r.failed for r in runs)},
        durations=merged(r.durations for r in runs),
        duration_sum=sum((r.duration_sum for r in runs), Decimal(0)),
        llm=_llm_by_model(llm), webhook_deliveries_today=deliveries, git_host_today=git_host,
        ledger=day_ledger(engine, today), webhook_backlog=backlog(engine))
