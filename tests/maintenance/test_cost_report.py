"""The daily cost report: figures from the database, a real email over loopback SMTP, and
keyed Prefect artifacts read back from the real API."""

from __future__ import annotations

import csv
import io
import socket
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from uuid import UUID

import pytest
from aiosmtpd.controller import Controller
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
    LogFilter,
    LogFilterFlowRunId,
)
from sqlalchemy import Engine, select

from db.models import MaintenanceRun
from flows.maintenance import daily_cost_report
from tests.maintenance.history import add_call, add_issue

TODAY = date(2026, 11, 20)  # report day: 2026-11-19 in Asia/Seoul = 11-18 15:00Z .. 11-19 15:00Z
IN_DAY = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)


def image_disposition(message: EmailMessage) -> str | None:
    [image] = [p for p in message.walk() if p.get_content_type() == "image/png"]
    return image.get_content_disposition()


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(envelope.original_content)  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch, maintenance_env: Path) -> Iterator[Inbox]:
    from sdb_agent.settings import get_settings

    handler = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("SMTP_TLS", "false")
    monkeypatch.setenv("REPORT_EMAIL_FROM", "sdb-agent@example.test")
    monkeypatch.setenv("REPORT_EMAIL_TO", "lead@example.test, ops@example.test")
    get_settings.cache_clear()
    yield handler
    controller.stop()


@pytest.fixture
def seoul(monkeypatch: pytest.MonkeyPatch, maintenance_env: Path) -> None:
    from sdb_agent.settings import get_settings

    monkeypatch.setenv("REPORT_TIMEZONE", "Asia/Seoul")
    monkeypatch.setenv("COST_BUDGET_DAILY_USD", "0.5")
    get_settings.cache_clear()


def seed(engine: Engine) -> list[int]:
    """Yesterday's calls (ids returned), plus calls outside the day."""
    big = add_issue(engine, "MAT-1", at=IN_DAY, summary="Add ALLOY-7", seconds=40.0)
    small = add_issue(engine, "MAT-2", at=IN_DAY, summary="Rename SiC", seconds=80.0)
    add_issue(engine, "MAT-3", at=IN_DAY, status="failed", seconds=5.0)
    ids = [
        add_call(engine, big, at=IN_DAY, model="gpt-4o", cost="0.400000"),
        add_call(engine, big, at=IN_DAY + timedelta(hours=1), model="gpt-4o", cost="0.250000",
                 call_type="spec_conversion"),
        add_call(engine, small, at=IN_DAY + timedelta(hours=2), cost="0.010000"),
        add_call(engine, small, at=IN_DAY + timedelta(hours=3), cost=None, cache_hit=True),
        add_call(engine, small, at=datetime(2026, 11, 19, 14, 59, tzinfo=UTC),
                 model="mystery-model", cost=None),
    ]
    add_call(engine, small, at=datetime(2026, 11, 19, 15, 0, tzinfo=UTC), cost="9.0")  # today
    for days in range(1, 8):
        add_call(engine, small, at=IN_DAY - timedelta(days=days), cost="0.070000")
    return ids


def artifacts(flow_run_id: UUID) -> dict[str, object]:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]),
            key=ArtifactFilterKey(any_=["daily-cost-report", "daily-cost-report-table"]),
        ))
    return {a.key: a for a in found}


def flow_run_id(engine: Engine) -> UUID:
    with engine.connect() as conn:
        return conn.execute(select(MaintenanceRun.flow_run_id)).scalar_one()


class TestTheEmailedReport:
    def test_it_has_html_an_inline_chart_and_a_csv_matching_the_database(
        self, inbox: Inbox, seoul: None, engine: Engine
    ) -> None:
        ids = seed(engine)

        figures = daily_cost_report(today=TODAY)

        assert figures["emailed"] is True and figures["day"] == "2026-11-19"
        [raw] = inbox.messages
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        assert message["To"] == "lead@example.test, ops@example.test"
        assert message["Subject"].startswith("[over budget] LLM cost report for 2026-11-19")
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        assert text.splitlines()[0] == ("ALERT: LLM cost $0.6600 on 2026-11-19 is over the daily "
                                        "budget $0.5000")
        assert message["Message-ID"].endswith("@sdb-agent.local>") and message["Date"]
        assert image_disposition(message) == "inline"
        assert "ALERT" in html.split("<h2>")[0]
        assert "1 unpriced call(s)" in text
        mystery_row = html.split("mystery-model")[1].split("</tr>")[0]
        assert ">unpriced</td>" in mystery_row and "$" not in mystery_row
        [image] = [p for p in message.walk() if p.get_content_type() == "image/png"]
        assert image["Content-ID"].strip("<>") in html
        assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html
        assert image.get_content()[:8] == b"\x89PNG\r\n\x1a\n"
        [attachment] = list(message.iter_attachments())
        assert attachment.get_filename() == "llm-calls-2026-11-19.csv"
        rows = list(csv.DictReader(io.StringIO(attachment.get_content().decode()
                                               if isinstance(attachment.get_content(), bytes)
                                               else attachment.get_content())))
        assert [int(r["id"]) for r in rows] == ids
        assert [r["estimated_cost"] for r in rows] == ["0.4", "0.25", "0.01", "", ""]
        assert rows[0]["issue_key"] == "MAT-1" and rows[4]["model"] == "mystery-model"

    def test_its_figures_count_unpriced_calls_apart_and_compare_with_the_week(
        self, inbox: Inbox, seoul: None, engine: Engine
    ) -> None:
        seed(engine)
        figures = daily_cost_report(today=TODAY)
        assert figures["cost_usd"] == pytest.approx(0.66)
        assert (figures["calls"], figures["unpriced_calls"]) == (5, 1)
        assert figures["cache_hit_rate"] == pytest.approx(0.2)
        assert figures["avg7_cost_usd"] == pytest.approx(0.07)
        assert (figures["runs_finished"], figures["success_rate"]) == (3, 0.6667)
        assert (figures["p50_seconds"], figures["p95_seconds"]) == (60.0, 78.0)
        table = artifacts(flow_run_id(engine))["daily-cost-report-table"]
        assert '"unpriced_calls": 1' in str(table.data)


class TestChoosingTheDay:
    def test_a_given_day_is_reported_instead_of_yesterday(
        self, maintenance_env: Path, seoul: None, engine: Engine
    ) -> None:
        seed(engine)
        figures = daily_cost_report(day=date(2026, 11, 19))
        assert figures["day"] == "2026-11-19" and figures["calls"] == 5


class TestWithoutSmtp:
    def test_artifacts_are_still_made_and_the_log_says_no_email_was_sent(
        self, maintenance_env: Path, engine: Engine
    ) -> None:
        seed(engine)
        figures = daily_cost_report(today=TODAY)
        assert figures["emailed"] is False
        run_id = flow_run_id(engine)
        found = artifacts(run_id)
        assert set(found) == {"daily-cost-report", "daily-cost-report-table"}
        assert "# LLM cost report for 2026-11-19 (UTC)" in str(found["daily-cost-report"].data)
        deadline = time.monotonic() + 15  # logs are sent in batches
        messages: list[str] = []
        while time.monotonic() < deadline:
            with get_client(sync_client=True) as client:
                logs = client.read_logs(log_filter=LogFilter(
                    flow_run_id=LogFilterFlowRunId(any_=[run_id])))
            messages = [log.message for log in logs]
            if any("no email sent" in m for m in messages):
                break
            time.sleep(0.2)
        assert any(m.startswith("no email sent: SMTP_HOST, REPORT_EMAIL_FROM, REPORT_EMAIL_TO "
                                "not set") for m in messages), messages
