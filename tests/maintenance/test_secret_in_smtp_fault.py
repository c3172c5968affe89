"""A mail server that echoes the SMTP password in its 535 reply: the report fails once (a 5xx
is not retried), and the password is in no sink (console, logs, Prefect state and logs,
`maintenance_run`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from sqlalchemy import Engine, select

from base.net import free_loopback_port
from db.models import MaintenanceRun
from flows.maintenance import daily_cost_report
from integrations.email import EmailError
from tests.conftest import ConfiguredRuntime

SMTP_PASSWORD = "smtp-SECRET-p4ss"


class EchoingAuthenticator:
    """Refuses every login with a reply that repeats it, as some servers' debug modes do."""

    def __init__(self) -> None:
        self.sessions: set[int] = set()  # smtplib tries each offered mechanism per login

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str,
                 auth_data: Any) -> AuthResult:
        self.sessions.add(id(session))
        password = auth_data.password.decode()
        return AuthResult(success=False, handled=False,
                          message=f"535 5.7.8 Authentication failed for password {password}")


class Inbox:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"


@pytest.fixture
def echoing_smtp(runtime: ConfiguredRuntime,
                 maintenance_env: Path) -> Iterator[EchoingAuthenticator]:
    authenticator = EchoingAuthenticator()
    port = free_loopback_port()
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port,
                            authenticator=authenticator, auth_require_tls=False)
    controller.start()
    runtime.set(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_TLS="false",
                SMTP_USERNAME="reports", SMTP_PASSWORD=SMTP_PASSWORD,
                REPORT_EMAIL_FROM="sdb-agent@example.test", REPORT_EMAIL_TO="lead@example.test")
    yield authenticator
    controller.stop()


def prefect_logs(flow_run_id: Any) -> list[str]:
    """The flow run's logs as Prefect stores them (they are shipped in batches)."""
    deadline, messages = time.monotonic() + 15, []
    while time.monotonic() < deadline:
        with get_client(sync_client=True) as client:
            messages = [log.message for log in client.read_logs(log_filter=LogFilter(
                flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))]
        if any("535" in m for m in messages):
            break
        time.sleep(0.2)
    return messages


class TestAnEchoedSmtpPassword:
    def test_is_masked_everywhere_and_the_refusal_is_not_retried(
        self, echoing_smtp: EchoingAuthenticator, engine: Engine,
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
    ) -> None:
        caplog.set_level(logging.DEBUG)
        with pytest.raises(EmailError, match="535") as failed:
            daily_cost_report()
        assert failed.value.permanent and SMTP_PASSWORD not in str(failed.value)
        assert len(echoing_smtp.sessions) == 1
        with engine.connect() as conn:
            row = conn.execute(select(MaintenanceRun.__table__)).one()
        assert row.status == "failed" and "535" in (row.error_message or "")
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(row.flow_run_id).state
        assert state is not None and state.is_failed()
        seen = {
            "exception": str(failed.value),
            "maintenance_run": row.error_message or "",
            "Prefect flow-run state": state.message or "",
            "Prefect logs": "\n".join(prefect_logs(row.flow_run_id)),
            "log records": caplog.text,
            "console": "".join(capsys.readouterr()),
        }
        assert "535" in seen["Prefect logs"]
        leaked = [sink for sink, text in seen.items() if SMTP_PASSWORD in text]
        assert leaked == []

    def test_from_the_command_line_is_one_error_line_and_exit_1(
        self, echoing_smtp: EchoingAuthenticator
    ) -> None:
        from typer.testing import CliRunner

        from cli.app import app

        done = CliRunner().invoke(app, ["maintenance", "daily-cost-report"])
        assert done.exit_code == 1 and len(echoing_smtp.sessions) == 1
        assert done.stderr.strip().splitlines()[-1] == (
            "error: SMTP server answered 535: 5.7.8 Authentication failed for password ***")
        assert SMTP_PASSWORD not in done.output
