"""The daily cost report: figures from the database, a real email over loopback SMTP, and
keyed Prefect artifacts read back from the real API."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.client.schemas.objects import Artifact
from prefect.exceptions import ParameterTypeError
from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings
from sqlalchemy import Engine, select

from base.prefect_ui import flow_run_url
from db.cost_data import load_calls, load_runs
from db.models import MaintenanceRun
from flows.maintenance import daily_cost_report
from reports.cost_render import to_text
from reports.cost_report import build_report, local_window
from tests.conftest import ConfiguredRuntime
from tests.maintenance.history import add_call, add_issue, count
from tests.smtp_inbox import Inbox, loopback_smtp

TODAY = date(2026, 11, 20)  # report day: 2026-11-19 in Asia/Seoul = 11-18 15:00Z .. 11-19 15:00Z
IN_DAY = datetime(2026, 11, 18, 16, 0, tzinfo=UTC)


def image_disposition(message: EmailMessage) -> str | None:
    [image] = [p for p in message.walk() if p.get_content_type() == "image/png"]
    return image.get_content_disposition()


@pytest.fixture
def inbox(runtime: ConfiguredRuntime, maintenance_env: Path) -> Iterator[Inbox]:
    handler = Inbox()
    with loopback_smtp(handler) as port:
        runtime.set(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_TLS="false",
                    REPORT_EMAIL_FROM="sdb-agent@example.test",
                    REPORT_EMAIL_TO="lead@example.test, ops@example.test")
        yield handler


@pytest.fixture
def seoul(runtime: ConfiguredRuntime, maintenance_env: Path) -> None:
    runtime.set(REPORT_TIMEZONE="Asia/Seoul", COST_BUDGET_DAILY_USD="0.5")


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


UI = "https://prefect.example.test"
RUN_A = UUID("00000000-0000-4000-8000-0000000000a1")
RUN_C = UUID("00000000-0000-4000-8000-0000000000c3")
PR = "https://bitbucket.example.test/acme/sdb/pull-requests/7"
LOCAL_PR = "local:///srv/sdb.git#sdb/MAT-12-rename"
ERROR = "Bitbucket refused the pull request\n  409 Conflict: branch exists\n" + "trace " * 60


def seed_runs(engine: Engine) -> None:
    """Three runs finished on the report day (a PR link, a local PR, a failure), and two that
    must stay out: one still processing, one finished the day before."""
    linked = add_issue(engine, "MAT-11", at=IN_DAY, summary="<b>x</b> & co", files=3,
                       pr_url=PR, flow_run_id=RUN_A)
    local = add_issue(engine, "MAT-12", at=IN_DAY + timedelta(hours=1), summary="Rename SiC",
                      files=1, pr_url=LOCAL_PR)
    add_issue(engine, "MAT-13", at=IN_DAY + timedelta(hours=2), status="failed", error=ERROR,
              flow_run_id=RUN_C)
    add_issue(engine, "MAT-14", at=IN_DAY, status="processing")
    add_issue(engine, "MAT-15", at=IN_DAY - timedelta(days=1), status="failed", error="old")
    add_call(engine, linked, at=IN_DAY - timedelta(hours=2), cost="0.300000")  # day before
    add_call(engine, linked, at=IN_DAY, cost="0.050000")
    add_call(engine, local, at=IN_DAY, model="mystery-model", cost=None)


def section(html: str, name: str) -> str:
    """One `<h3>` section of the email's HTML, up to the next one."""
    return html.split(f"<h3>{name}</h3>")[1].split("<h3>")[0]


def html_row(html: str, key: str) -> str:
    return html.split(f">{key}</td>")[1].split("</tr>")[0]


def text_section(text: str, name: str) -> list[str]:
    """The lines of one section of the plain-text report, up to the blank line after it."""
    lines = text.splitlines()
    start = lines.index(name) + 1
    return lines[start:lines.index("", start)]


def emailed(inbox: Inbox) -> EmailMessage:
    [raw] = inbox.messages
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def body(message: EmailMessage, subtype: str) -> str:
    """The text of the message's `text/<subtype>` body."""
    part = message.get_body((subtype,))
    assert part is not None, f"no text/{subtype} body"
    content: str = part.get_content()
    return content


def artifacts(flow_run_id: UUID) -> dict[str, Artifact]:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]),
            key=ArtifactFilterKey(any_=["daily-cost-report", "daily-cost-report-table"]),
        ))
    return {a.key: a for a in found if a.key is not None}  # the filter names keys: all have one


def flow_run_id(engine: Engine) -> UUID:
    with engine.connect() as conn:
        run_id = conn.execute(select(MaintenanceRun.flow_run_id)).scalar_one()
    assert run_id is not None  # the report ran as a Prefect flow
    return run_id


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
        html = body(message, "html")
        text = body(message, "plain")
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


class TestIssueRuns:
    def test_each_finished_run_has_its_status_cost_pr_and_prefect_run_in_html_and_markdown(
        self, inbox: Inbox, seoul: None, engine: Engine
    ) -> None:
        seed_runs(engine)
        with temporary_settings(updates={PREFECT_UI_URL: UI}):
            daily_cost_report(today=TODAY)

        html = section(body(emailed(inbox), "html"), "Issue runs")
        assert [row.split("</td>")[0].rsplit(">", 1)[1] for row in html.split("<tr>")[2:]] == [
            "MAT-11", "MAT-12", "MAT-13"]
        linked = html_row(html, "MAT-11")
        assert ">completed</td>" in linked and ">3</td>" in linked and ">$0.3500</td>" in linked
        assert f'<a href="{PR}">PR</a>' in linked
        assert f'<a href="{UI}/runs/flow-run/{RUN_A}">run</a>' in linked
        local = html_row(html, "MAT-12")
        assert f">{LOCAL_PR}</td>" in local and "href" not in local  # not a link
        assert ">unpriced</td>" in local and "$" not in local
        failed = html_row(html, "MAT-13")
        assert ">failed</td>" in failed and ">$0.0000</td>" in failed
        assert f'href="{UI}/runs/flow-run/{RUN_C}"' in failed
        markdown = str(artifacts(flow_run_id(engine))["daily-cost-report"].data)
        assert markdown.split("## Issue runs\n\n")[1].split("\n\n")[0].splitlines()[2:] == [
            f"| MAT-11 | &lt;b&gt;x&lt;/b&gt; &amp; co | completed | 3 | 2 | $0.3500 | 0 "
            f"| [PR]({PR}) | [run]({UI}/runs/flow-run/{RUN_A}) |",
            f"| MAT-12 | Rename SiC | completed | 1 | 1 | unpriced | 1 | {LOCAL_PR} | — |",
            f"| MAT-13 | summary of MAT-13 | failed | 0 | 0 | $0.0000 | 0 | — "
            f"| [run]({UI}/runs/flow-run/{RUN_C}) |",
        ]

    def test_an_issue_summary_is_html_escaped_everywhere(
        self, inbox: Inbox, seoul: None, engine: Engine
    ) -> None:
        seed_runs(engine)
        daily_cost_report(today=TODAY)
        message = emailed(inbox)
        html = body(message, "html")
        markdown = str(artifacts(flow_run_id(engine))["daily-cost-report"].data)
        assert "<b>x</b>" not in html and "<b>x</b>" not in markdown
        assert ">&lt;b&gt;x&lt;/b&gt; &amp; co</td>" in section(html, "Issue runs")
        assert "<b>x</b> & co" in body(message, "plain")

    def test_without_a_prefect_ui_a_run_has_no_link(self, seoul: None, engine: Engine) -> None:
        seed_runs(engine)
        tz = ZoneInfo("Asia/Seoul")
        start, end = local_window(first=date(2026, 11, 19), last=date(2026, 11, 19), tz=tz)
        with temporary_settings(updates={PREFECT_UI_URL: "", PREFECT_API_URL: ""}):
            report = build_report(load_calls(engine, start=start, end=end),
                                  load_runs(engine, start=start, end=end),
                                  day=date(2026, 11, 19), tz=tz, budget_usd=None)
        assert report.issue_runs["flow_run_url"].isna().all()
        assert "flow-run" not in to_text(report)


class TestFailedRuns:
    def test_each_failed_run_of_the_day_is_listed_with_its_reason_and_prefect_run(
        self, inbox: Inbox, seoul: None, engine: Engine
    ) -> None:
        seed_runs(engine)
        with temporary_settings(updates={PREFECT_UI_URL: UI}):
            figures = daily_cost_report(today=TODAY)

        message = emailed(inbox)
        [line] = text_section(body(message, "plain"), "Failed runs")[1:]
        key, reason, link = re.split(r"\s{2,}", line)  # columns; the reason is one line
        assert (key, link) == ("MAT-13", f"{UI}/runs/flow-run/{RUN_C}")
        assert reason.startswith("Bitbucket refused the pull request 409 Conflict: branch exists")
        assert len(reason) == 200 and reason.endswith("…") and "\n" not in reason
        html = section(body(message, "html"), "Failed runs")
        assert ">MAT-13</td>" in html and "MAT-15" not in html and "409 Conflict" in html
        assert f'<a href="{UI}/runs/flow-run/{RUN_C}">run</a>' in html
        markdown = str(artifacts(flow_run_id(engine))["daily-cost-report"].data)
        assert "| MAT-13 | Bitbucket refused the pull request 409 Conflict" in markdown.split(
            "## Failed runs")[1]
        assert (figures["runs_finished"], figures["success_rate"]) == (3, 0.6667)

    def test_a_day_without_failures_says_so(
        self, maintenance_env: Path, seoul: None, engine: Engine
    ) -> None:
        add_issue(engine, "MAT-1", at=IN_DAY)
        daily_cost_report(today=TODAY)
        markdown = str(artifacts(flow_run_id(engine))["daily-cost-report"].data)
        assert "## Failed runs\n\n_no failed runs_" in markdown


class TestChangeAgainstEarlierDays:
    def test_cost_and_calls_are_set_against_the_previous_day_and_the_week(
        self, inbox: Inbox, seoul: None, engine: Engine
    ) -> None:
        seed(engine)
        add_call(engine, add_issue(engine, "MAT-9", at=IN_DAY - timedelta(days=1)),
                 at=IN_DAY - timedelta(days=1, hours=-1), cost="0.260000")

        figures = daily_cost_report(today=TODAY)

        assert (figures["prev_cost_usd"], figures["prev_calls"]) == (pytest.approx(0.33), 2)
        assert figures["avg7_cost_usd"] == pytest.approx(0.75 / 7, abs=1e-6)
        assert (figures["cost_usd_vs_prev_pct"], figures["calls_vs_prev_pct"]) == (100.0, 150.0)
        assert (figures["cost_usd_vs_avg7_pct"], figures["calls_vs_avg7_pct"]) == (516.0, 338.6)
        text = body(emailed(inbox), "plain")
        assert ("Cost: $0.6600 + 1 unpriced call(s) (previous day $0.3300, +100%; "
                "7-day average $0.1071, +516%)") in text
        assert "Calls: 5 (previous day 2, +150%; 7-day average 1.14, +339%), tokens" in text

    def test_with_nothing_to_compare_with_it_says_new_or_a_dash(
        self, maintenance_env: Path, seoul: None, engine: Engine
    ) -> None:
        add_call(engine, add_issue(engine, "MAT-1", at=IN_DAY), at=IN_DAY, cost="0.010000")
        figures = daily_cost_report(today=TODAY)
        assert figures["cost_usd_vs_prev_pct"] is None and figures["calls_vs_avg7_pct"] is None
        markdown = str(artifacts(flow_run_id(engine))["daily-cost-report"].data)
        assert "(previous day $0.0000, new; 7-day average $0.0000, new)" in markdown

    def test_an_empty_day_after_an_empty_day_shows_a_dash(
        self, maintenance_env: Path, seoul: None, engine: Engine
    ) -> None:
        daily_cost_report(today=TODAY)
        markdown = str(artifacts(flow_run_id(engine))["daily-cost-report"].data)
        assert "Calls: 0 (previous day 0, —; 7-day average 0.0, —)" in markdown


class TestPrefectRunLinks:
    """The one helper that the report and the webhook answer both use."""

    def test_the_ui_url_is_used_when_set(self) -> None:
        with temporary_settings(updates={PREFECT_UI_URL: f"{UI}/"}):
            assert flow_run_url(RUN_A) == f"{UI}/runs/flow-run/{RUN_A}"

    def test_else_the_api_url_without_its_api_suffix(self) -> None:
        with temporary_settings(updates={PREFECT_UI_URL: "",
                                         PREFECT_API_URL: "http://127.0.0.1:4200/api"}):
            assert flow_run_url(RUN_A) == f"http://127.0.0.1:4200/runs/flow-run/{RUN_A}"

    def test_no_link_when_neither_is_set(self) -> None:
        with temporary_settings(updates={PREFECT_UI_URL: "", PREFECT_API_URL: ""}):
            assert flow_run_url(RUN_A) is None


def seed_routes(engine: Engine) -> None:
    """One day of two routes (MAT to acme/sdb, ERP to acme/erp) and a run from before routing."""
    mat = add_issue(engine, "MAT-21", at=IN_DAY, repository="acme/sdb")
    erp = add_issue(engine, "ERP-5", at=IN_DAY, repository="acme/erp", status="failed",
                    error="no edit applied")
    old = add_issue(engine, "MAT-20", at=IN_DAY)  # recorded before routing: no repository
    add_call(engine, mat, at=IN_DAY, cost="0.400000")
    add_call(engine, mat, at=IN_DAY, cost="0.200000")
    add_call(engine, erp, at=IN_DAY, cost="0.030000")
    add_call(engine, old, at=IN_DAY, cost=None)


class TestByRoute:
    def test_the_whole_report_breaks_the_cost_down_by_project_and_repository(
        self, inbox: Inbox, seoul: None, engine: Engine
    ) -> None:
        seed_routes(engine)
        daily_cost_report(today=TODAY)
        text = body(emailed(inbox), "plain")
        assert [line.split() for line in text_section(text, "By project and repository")] == [
            ["project", "repository", "cost", "calls", "tokens", "unpriced", "cache", "hits"],
            ["MAT", "acme/sdb", "$0.6000", "2", "2,000", "0", "0%"],
            ["ERP", "acme/erp", "$0.0300", "1", "1,000", "0", "0%"],
            ["MAT", "—", "unpriced", "1", "1,000", "1", "0%"],
        ]
        assert "ALERT" in text  # $0.63 over the $0.50 budget, which holds across routes

    def test_a_project_narrows_every_figure_and_the_title(
        self, inbox: Inbox, seoul: None, engine: Engine
    ) -> None:
        seed_routes(engine)
        figures = daily_cost_report(today=TODAY, project="MAT")
        assert (figures["calls"], figures["cost_usd"], figures["runs_finished"]) == (3, 0.6, 2)
        assert figures["project"] == "MAT" and figures["alerts"] == [
            "1 call(s) used unpriced models: their cost is unknown, not $0"]
        message = emailed(inbox)
        assert message["Subject"] == "LLM cost report for 2026-11-19 (Asia/Seoul), project MAT"
        markdown = str(artifacts(flow_run_id(engine))["daily-cost-report"].data)
        assert "ERP-5" not in markdown and "MAT-21" in markdown

    def test_a_repository_narrows_to_the_runs_that_went_there(
        self, maintenance_env: Path, seoul: None, engine: Engine
    ) -> None:
        seed_routes(engine)
        figures = daily_cost_report(today=TODAY, repository="acme/erp")
        assert (figures["calls"], figures["cost_usd"], figures["runs_finished"]) == (1, 0.03, 1)
        assert figures["success_rate"] == 0.0 and figures["repository"] == "acme/erp"

    def test_a_malformed_project_is_refused_before_the_run(
        self, maintenance_env: Path, engine: Engine
    ) -> None:
        with pytest.raises(ParameterTypeError, match="project"):
            daily_cost_report(today=TODAY, project="mat; drop table")
        assert count(engine, MaintenanceRun) == 0
