"""Tasks of the daily cost report: load, compute, publish artifacts, email."""

from __future__ import annotations

from datetime import date, timedelta
from typing import cast
from zoneinfo import ZoneInfo

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from base.settings import Settings
from db.cost_data import load_calls, load_runs
from db.stats_figures import RouteFilter
from integrations.email import send_email, smtp_configured
from reports.cost_email import build_email
from reports.cost_render import title, to_markdown
from reports.cost_report import CHART_DAYS, CostReport, build_report, local_window
from tasks.maintenance.common import engine, publish_artifacts
from tasks.retry import email_may_succeed_later

ARTIFACT_KEY = "daily-cost-report"


@task(name="load-cost-data", retries=2, retry_delay_seconds=10, cache_policy=NO_CACHE)
def load_task(*, day: date, tz: ZoneInfo,
              route: RouteFilter) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Calls of the 14 local days ending on `day`, and the issue runs finished on `day`, of
    the route only."""
    eng = engine()
    start, end = local_window(first=day - timedelta(days=CHART_DAYS - 1), last=day, tz=tz)
    day_start, day_end = local_window(first=day, last=day, tz=tz)
    return (load_calls(eng, start=start, end=end, route=route),
            load_runs(eng, start=day_start, end=day_end, route=route))


@task(name="build-cost-report", cache_policy=NO_CACHE)
def build_task(
    calls: pd.DataFrame, runs: pd.DataFrame, *, day: date, tz: ZoneInfo, budget: float | None,
    route: RouteFilter,
) -> CostReport:
    report = build_report(calls, runs, day=day, tz=tz, budget_usd=budget, route=route)
    logger = get_run_logger()
    for alert in report.alerts:
        logger.warning(alert)
    return report


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows with NaN (an unpriced cost) as None, so the artifact shows it empty, not 0."""
    return cast(list[dict[str, object]],
                frame.astype(object).where(frame.notna(), None).to_dict("records"))


@task(name="publish-cost-artifacts", cache_policy=NO_CACHE)
def artifacts_task(report: CostReport) -> None:
    table = [{"dimension": "model", **row} for row in _records(report.by_model)]
    table += [{"dimension": "call_type", **row} for row in _records(report.by_call_type)]
    publish_artifacts(key=ARTIFACT_KEY, markdown=to_markdown(report), table=table,
                      description=title(report))


@task(name="email-cost-report", retries=3, retry_delay_seconds=60, cache_policy=NO_CACHE,
      retry_condition_fn=email_may_succeed_later)
def email_task(report: CostReport, *, settings: Settings) -> bool:
    """Send the report; True when sent, False (logged plainly) when SMTP is not configured."""
    logger = get_run_logger()
    missing = smtp_configured(settings)
    if missing:
        logger.info("no email sent: %s; the report is in the Prefect artifacts", missing)
        return False
    message = build_email(report, sender=settings.report_email_from or "",
                          recipients=settings.report_recipients)
    send_email(message, settings=settings)
    logger.info("emailed the cost report to %d recipient(s)", len(settings.report_recipients))
    return True
