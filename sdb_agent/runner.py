"""Run the process-issue flow now, in this process, against a real Prefect API."""

from __future__ import annotations

import os
from typing import Any

import prefect.context
from prefect.context import refresh_global_settings_context
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

from deployments.local_prefect import LocalPrefectServer, configured_api_url
from sdb_agent.settings import get_settings


def prefect_api_url() -> str:
    """`PREFECT_API_URL` if configured, else the local server in the data directory.

    The URL is made process-wide (environment and Prefect's global settings), because
    Prefect's background workers (events, logs, concurrency leases) run in threads that do
    not see a context-local setting; without it they would try to start a server of their own.
    """
    url = configured_api_url() or local_prefect_server().ensure()
    os.environ["PREFECT_API_URL"] = url
    if prefect.context.GLOBAL_SETTINGS_CONTEXT.settings.api.url != url:
        refresh_global_settings_context()
    return url


def local_prefect_server() -> LocalPrefectServer:
    """The data directory's local Prefect server, its state where LOCAL_PREFECT_DATABASE_URL
    says (SQLite when unset)."""
    settings = get_settings()
    database = settings.local_prefect_database_url
    return LocalPrefectServer(settings.data_dir, database_url=database.get_secret_value()
                              if database else None)


def run_issue_now(*, issue: dict[str, Any] | None, issue_key: str | None,
                  force: bool = False) -> dict[str, Any]:
    """The flow's result (the flow names its run after the issue and tags it with the project).

    Prefect's flow-run heartbeat thread sleeps in whole seconds, so every in-process run
    would wait up to 1 s on exit for it; here it is off, and liveness comes from the run's
    own heartbeat in PostgreSQL (see `flows/heartbeat.py`), which reruns and the reaper use.
    """
    from flows.process_issue import process_issue

    prefect_api_url()
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        state = process_issue(issue=issue, issue_key=issue_key, force=force, return_state=True)
    result = state.result(raise_on_failure=False)
    if isinstance(result, BaseException):  # the run broke: raise what broke it
        raise result
    return dict(result)
