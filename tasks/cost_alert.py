"""The same-day cost alert: when today's LLM spend (UTC) crosses `COST_ALERT_USD`, one email
and/or one POST to `ALERT_WEBHOOK_URL`, once per day, recorded in `cost_alert`.

It runs right after a call's cost is booked in the budget ledger, in whichever process made
the call; the row's unique key makes the first process to cross the only one that sends. A
failed alert is logged and recorded, never raised: it must not fail the call or the run.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from email.message import EmailMessage

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from base.errors import ConfigError, SdbAgentError
from base.settings import Settings
from db import cost_alerts
from integrations.alert_webhook import post_alert
from integrations.email import send_email, smtp_configured

logger = logging.getLogger(__name__)
EMAIL_SECONDS = 10.0  # the alert runs on an LLM call's path: a hung mail server must not hold it


def alert_text(settings: Settings, day: date, spent: Decimal, threshold: Decimal) -> str:
    lines = [f"sdb-agent: LLM spend on {day} (UTC) reached ${spent:.4f}; the alert threshold "
             f"COST_ALERT_USD is ${threshold:.4f}."]
    cap, report = settings.llm_budget_per_day_usd, settings.cost_budget_daily_usd
    if cap is not None:
        lines.append(f"Hard daily cap LLM_BUDGET_PER_DAY_USD: ${cap:.4f}.")
    if report is not None:
        lines.append(f"Report budget COST_BUDGET_DAILY_USD: ${report:.4f}.")
    return "\n".join(lines)


def alert_if_crossed(settings: Settings, engine: Engine, *, day: date, spent_before: Decimal,
                     spent_after: Decimal) -> None:
    """Send the day's alert if this booking took the spend across the threshold."""
    if settings.cost_alert_usd is None:
        return
    threshold = Decimal(str(settings.cost_alert_usd))
    if not spent_before < threshold <= spent_after:
        return
    try:
        alert_id = cost_alerts.claim(engine, day=day, threshold=threshold, spent=spent_after)
    except SQLAlchemyError as exc:
        logger.warning("could not record the cost alert: %s", str(exc).splitlines()[0])
        return
    if alert_id is None:
        return  # another process sent it
    text = alert_text(settings, day, spent_after, threshold)
    channels, errors = _send(settings, day, text)
    for error in errors:
        logger.warning("cost alert not delivered: %s", error)
    if channels:
        logger.info("cost alert for %s sent by %s", day, ", ".join(channels))
    try:
        cost_alerts.record_outcome(engine, alert_id, channels=channels, errors=errors)
    except SQLAlchemyError as exc:
        logger.warning("could not record the cost alert's outcome: %s", str(exc).splitlines()[0])


def _send(settings: Settings, day: date, text: str) -> tuple[list[str], list[str]]:
    """(channels that took the alert, one line per channel that failed)."""
    channels, errors = [], []
    if settings.smtp_host and settings.report_recipients:
        try:
            _email(settings, day, text)
            channels.append("email")
        except (SdbAgentError, ValueError) as exc:  # ValueError: a header email refuses
            errors.append(f"email: {_one_line(exc)}")
    if settings.alert_webhook_url is not None:
        try:
            post_alert(settings.alert_webhook_url.get_secret_value(), text)
            channels.append("webhook")
        except SdbAgentError as exc:
            errors.append(f"webhook: {_one_line(exc)}")
    if not channels and not errors:
        errors.append("no channel: set SMTP_HOST and REPORT_EMAIL_TO, or ALERT_WEBHOOK_URL")
    return channels, errors


def _email(settings: Settings, day: date, text: str) -> None:
    missing = smtp_configured(settings)
    if missing is not None:
        raise ConfigError(missing)
    message = EmailMessage()
    message["Subject"] = f"sdb-agent: LLM spend alert for {day}"
    message["From"] = str(settings.report_email_from)
    message["To"] = ", ".join(settings.report_recipients)
    message.set_content(text)
    send_email(message, settings=settings, timeout=EMAIL_SECONDS)


def _one_line(exc: Exception) -> str:
    """An error as one line for the row and the log (an SMTP reply may span several)."""
    return " ".join(str(exc).split())[:300]
