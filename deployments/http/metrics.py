"""GET /metrics: the agent in the Prometheus text format, built with prometheus_client.

Flow runs execute in other processes (Prefect workers), so nothing is counted in this one:
a collector reads the figures from PostgreSQL at each scrape (`db/metrics_figures.py`), on a
registry of its own. Totals are counters over all history: the rollup keeps the days that
retention has deleted, so they never go down. What has no rollup (webhook deliveries, git-host
calls by status class) and today's ledger are gauges of the UTC day; the webhook backlog is a
gauge of now. Same bearer token as the read API; 503 while the database is down.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import Engine

from base import clock
from db.duration_histogram import BASE_SECONDS, BUCKETS, PER_DECADE
from db.metrics_figures import MetricFigures, metric_figures
from deployments.http.deps import EngineDep, ReadAuth
from deployments.http.stats import refresh_rollup

router = APIRouter(tags=["metrics"], dependencies=[ReadAuth])
EDGE_EVERY = 5  # of the 20 rollup buckets per decade: 4 Prometheus buckets per decade


def duration_buckets(figures: MetricFigures) -> list[tuple[str, float]]:
    """Cumulative counts at every EDGE_EVERY-th rollup bucket's upper edge, then +Inf.

    A rollup bucket excludes its upper edge, so a duration exactly on an edge (10.000 s) is
    counted in the next `le` bucket, not in `le="10.0"`."""
    counts, out, seen = figures.durations.counts, [], 0
    for index in range(BUCKETS - 1):
        seen += counts[index]
        if index % EDGE_EVERY == 0:
            edge = round(BASE_SECONDS * 10 ** (index / PER_DECADE), 6)
            out.append((repr(edge), float(seen)))  # 0.1 ... 100000.0, as the client prints le
    out.append(("+Inf", float(seen + counts[BUCKETS - 1])))
    return out


class HistoryCollector(Collector):
    """Every scrape asks the history database once."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        figures = metric_figures(self.engine)
        yield from _runs(figures)
        yield from _llm(figures)
        yield from _traffic(figures)
        yield from _budget(figures)


def _runs(figures: MetricFigures) -> Iterator[Metric]:
    runs = GaugeMetricFamily("sdb_agent_runs", "Issue runs ever recorded, by status",
                             labels=["status"])
    for status, n in figures.runs_by_status.items():
        runs.add_metric([status], n)
    yield runs
    duration = HistogramMetricFamily("sdb_agent_run_duration_seconds",
                                     "Duration of completed issue runs")
    duration.add_metric([], duration_buckets(figures), float(figures.duration_sum))
    yield duration


def _llm(figures: MetricFigures) -> Iterator[Metric]:
    labels = ["model", "call_type"]
    calls = CounterMetricFamily("sdb_agent_llm_calls", "LLM calls", labels=labels)
    hits = CounterMetricFamily("sdb_agent_llm_cache_hits", "LLM calls answered from the cache",
                               labels=labels)
    unpriced = CounterMetricFamily("sdb_agent_llm_unpriced_calls",
                                   "LLM calls of models with no price (not in the cost)",
                                   labels=labels)
    cost = CounterMetricFamily("sdb_agent_llm_cost_usd", "Cost of priced LLM calls in USD",
                               labels=labels)
    tokens = CounterMetricFamily("sdb_agent_llm_tokens",
                                 "LLM tokens by kind (cached tokens are part of the prompt)",
                                 labels=[*labels, "kind"])
    for (model, call_type), g in sorted(figures.llm.items()):
        key = [model, call_type]
        calls.add_metric(key, g.calls)
        hits.add_metric(key, g.cache_hits)
        unpriced.add_metric(key, g.unpriced_calls)
        cost.add_metric(key, float(g.cost))
        for kind, n in (("prompt", g.prompt_tokens), ("completion", g.completion_tokens),
                        ("cached", g.cached_tokens)):
            tokens.add_metric([*key, kind], n)
    yield from (calls, hits, unpriced, cost, tokens)


def _traffic(figures: MetricFigures) -> Iterator[Metric]:
    deliveries = GaugeMetricFamily("sdb_agent_webhook_deliveries_today",
                                   "Webhook deliveries of the UTC day by outcome",
                                   labels=["outcome"])
    for outcome, n in sorted(figures.webhook_deliveries_today.items()):
        deliveries.add_metric([outcome], n)
    yield deliveries
    git_host = GaugeMetricFamily("sdb_agent_git_host_calls_today",
                                 "Git-host calls of the UTC day by status class (error: no "
                                 "answer or a failed local git operation; none: a local one)",
                                 labels=["status_class"])
    for klass, n in sorted(figures.git_host_today.items()):
        git_host.add_metric([klass], n)
    yield git_host
    backlog = figures.webhook_backlog
    yield GaugeMetricFamily("sdb_agent_webhook_backlog",
                            "Webhook deliveries accepted and not handed to Prefect yet",
                            value=backlog.waiting)
    oldest = backlog.oldest_received_at
    yield GaugeMetricFamily("sdb_agent_webhook_backlog_oldest_seconds",
                            "How long the oldest delivery not handed off has waited (0: none)",
                            value=0.0 if oldest is None else
                            max(0.0, (clock.now() - oldest).total_seconds()))


def _budget(figures: MetricFigures) -> Iterator[Metric]:
    ledger = figures.ledger
    for name, text, value in (
            ("sdb_agent_llm_budget_spent_today_usd", "LLM spend booked today (UTC)",
             float(ledger.spent)),
            ("sdb_agent_llm_budget_reserved_today_usd",
             "Worst cases held today (UTC) by LLM calls in flight", float(ledger.reserved)),
            ("sdb_agent_llm_budget_refusals_today", "LLM calls refused by a cap today",
             float(ledger.refusals))):
        yield GaugeMetricFamily(name, text, value=value)


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}},
                             "description": "Prometheus text format"}})
def metrics(engine: EngineDep) -> Response:
    """The agent's figures in the Prometheus text exposition format."""
    refresh_rollup(engine)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HistoryCollector(engine))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
