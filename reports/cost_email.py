"""The cost report as an email: HTML with a plain-text alternative, the chart inline by
`cid:`, and yesterday's calls as a CSV attachment."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import cast

from base import clock
from reports.cost_chart import cost_chart_png
from reports.cost_render import title, to_html, to_text
from reports.cost_report import CostReport

CSV_COLUMNS = ["id", "created_at", "issue_key", "project_key", "repository", "call_type",
               "model", "prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens",
               "estimated_cost", "cache_hit", "success"]


def calls_csv(report: CostReport) -> str:
    """Yesterday's calls; an unpriced cost is an empty cell, never 0."""
    frame = report.calls.reindex(columns=CSV_COLUMNS).copy()
    frame["created_at"] = frame["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(frame.to_csv(index=False, lineterminator="\n"))


def chart_png(report: CostReport) -> bytes:
    return cost_chart_png(report.daily_by_model, title="LLM cost by model, last 14 days")


def build_email(report: CostReport, *, sender: str, recipients: list[str]) -> EmailMessage:
    message = EmailMessage()
    alert = "[over budget] " if any(a.startswith("ALERT") for a in report.alerts) else ""
    message["Subject"] = f"{alert}{title(report)}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = make_msgid(domain="sdb-agent.local")
    message.set_content(to_text(report))
    chart_cid = make_msgid(domain="sdb-agent.local")
    message.add_alternative(to_html(report, chart_cid=chart_cid[1:-1]), subtype="html")
    html_part = cast(EmailMessage, message.get_payload()[1])  # type: ignore[index]
    html_part.add_related(chart_png(report), maintype="image", subtype="png", cid=chart_cid,
                          filename="cost-by-model.png", disposition="inline")
    message.add_attachment(calls_csv(report).encode(), maintype="text", subtype="csv",
                           filename=f"llm-calls-{report.day}.csv")
    return message
