"""The same-day cost alert: one email over loopback SMTP and one POST to the Slack stand-in
per crossing per day, recorded, whichever of many processes crosses first."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, text

from integrations import alert_webhook
from standins.faults import Delay, Fault, Reset, Status
from standins.slack_webhook import SlackWebhookStandin
from tasks.cost_alert import alert_if_crossed
from tests.conftest import ConfiguredRuntime
from tests.smtp_inbox import Inbox, loopback_smtp

DAY = date(2026, 12, 2)


@pytest.fixture
def channels(runtime: ConfiguredRuntime) -> Iterator[tuple[Inbox, SlackWebhookStandin]]:
    inbox = Inbox()
    with loopback_smtp(inbox) as port, SlackWebhookStandin() as slack:
        runtime.set(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_TLS="false",
                    REPORT_EMAIL_FROM="sdb-agent@example.test",
                    REPORT_EMAIL_TO="lead@example.test", COST_ALERT_USD="1.5",
                    ALERT_WEBHOOK_URL=slack.url)
        yield inbox, slack


def alerts(engine: Engine) -> list[tuple[date, Decimal, str | None, str | None]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(
            "SELECT day, spent_usd, channels, error_message FROM cost_alert ORDER BY id"))]


def cross(runtime: ConfiguredRuntime, engine: Engine, day: date = DAY,
          before: str = "1.40", after: str = "1.60") -> None:
    alert_if_crossed(runtime.settings, engine, day=day, spent_before=Decimal(before),
                     spent_after=Decimal(after))


def test_a_crossing_sends_one_email_and_one_post_and_records_them(
        runtime: ConfiguredRuntime, engine: Engine,
        channels: tuple[Inbox, SlackWebhookStandin]) -> None:
    inbox, slack = channels
    cross(runtime, engine, before="1.00", after="1.40")  # not yet
    assert inbox.messages == [] and slack.messages == []
    cross(runtime, engine)
    assert len(inbox.messages) == 1 and b"LLM spend alert for 2026-12-02" in inbox.messages[0]
    assert slack.messages == ["sdb-agent: LLM spend on 2026-12-02 (UTC) reached $1.6000; the "
                              "alert threshold COST_ALERT_USD is $1.5000."]
    assert alerts(engine) == [(DAY, Decimal("1.6"), "email, webhook", None)]
    cross(runtime, engine, before="1.60", after="1.90")  # above it already: no new crossing
    cross(runtime, engine)  # the same crossing again (another worker): still one
    assert len(inbox.messages) == 1 and len(slack.messages) == 1
    cross(runtime, engine, day=DAY + timedelta(days=1))  # the next UTC day alerts again
    assert len(slack.messages) == 2 and len(alerts(engine)) == 2


def test_eight_processes_crossing_at_once_send_one_alert(
        runtime: ConfiguredRuntime, engine: Engine,
        channels: tuple[Inbox, SlackWebhookStandin]) -> None:
    inbox, slack = channels
    start = threading.Barrier(8)

    def crossing() -> None:
        start.wait()
        cross(runtime, engine)

    threads = [threading.Thread(target=crossing) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(inbox.messages) == len(slack.messages) == len(alerts(engine)) == 1


def test_no_threshold_no_alert(runtime: ConfiguredRuntime, engine: Engine,
                               channels: tuple[Inbox, SlackWebhookStandin]) -> None:
    runtime.set(COST_ALERT_USD=None)
    cross(runtime, engine)
    assert channels[0].messages == [] and channels[1].messages == [] and alerts(engine) == []


@pytest.mark.parametrize(("fault", "recorded"), [
    (Status(500), "webhook: alert webhook answered 500"),
    (Status(404), "webhook: alert webhook answered 404"),
    (Status(302, body=b""), "webhook: alert webhook answered 302"),
    (Reset(), "webhook: alert webhook unreachable: ConnectionError"),
    (Delay(3.0), "webhook: alert webhook timed out"),
])
def test_a_failing_webhook_is_recorded_without_its_url_and_raises_nothing(
        runtime: ConfiguredRuntime, engine: Engine, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch, channels: tuple[Inbox, SlackWebhookStandin],
        fault: Fault, recorded: str) -> None:
    inbox, slack = channels
    monkeypatch.setattr(alert_webhook, "READ_SECONDS", 0.5)
    slack.faults.add("*", fault)
    with caplog.at_level(logging.WARNING):
        cross(runtime, engine)
    [(_, _, sent, error)] = alerts(engine)
    assert (sent, error) == ("email", recorded)
    assert len(inbox.messages) == 1 and slack.messages == []
    assert "secretpart" not in caplog.text and "secretpart" not in str(error)
    assert recorded in caplog.text


def test_email_without_a_sender_is_recorded_as_its_failure(
        runtime: ConfiguredRuntime, engine: Engine,
        channels: tuple[Inbox, SlackWebhookStandin]) -> None:
    inbox, slack = channels
    runtime.set(REPORT_EMAIL_FROM=None)
    cross(runtime, engine)
    assert alerts(engine) == [(DAY, Decimal("1.6"), "webhook",
                               "email: REPORT_EMAIL_FROM not set")]
    assert inbox.messages == [] and len(slack.messages) == 1


def test_a_mail_server_that_refuses_is_one_line_on_the_row(
        runtime: ConfiguredRuntime, engine: Engine,
        channels: tuple[Inbox, SlackWebhookStandin]) -> None:
    inbox, slack = channels
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    runtime.set(SMTP_PORT=str(closed))
    cross(runtime, engine)
    [(_, _, sent, error)] = alerts(engine)
    assert sent == "webhook" and error is not None
    assert error.startswith("email: SMTP server unreachable") and "\n" not in error


def test_the_stand_in_answers_as_slack_documents(channels: tuple[Inbox, SlackWebhookStandin]
                                                 ) -> None:
    slack = channels[1]

    def post(url: str = slack.url, **body: Any) -> tuple[int, str]:
        answer = requests.post(url, timeout=5, **body)
        return answer.status_code, answer.text

    assert post(json={"text": "hi"}) == (200, "ok")
    assert post(json={"blocks": [{"type": "divider"}]}) == (200, "ok")
    assert post(json={"attachments": []}) == (400, "no_text")
    assert post(data=b"not json") == (400, "invalid_payload")
    assert post(slack.base_url + "/services/x", json={"text": "hi"}) == (404, "no_service")
    slack.faults.add("*", Status(410))
    assert post(json={"text": "hi"}) == (410, "channel_is_archived")
    assert slack.messages == ["hi", '[{"type": "divider"}]']
