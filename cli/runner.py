"""Run the process-issue flow now, in this process, against a real Prefect API."""

from __future__ import annotations

from typing import Any, cast

from prefect.context import SettingsContext, get_settings_context
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY

from base.prefect_overrides import overridden
from deployments.local_prefect import prefect_api_url
from flows.run_result import RunResult
from tasks.runtime import current_runtime


def run_issue_now(*, issue: dict[str, Any] | None, issue_key: str | None,
                  force: bool = False) -> RunResult:
    """The flow's result (the flow names its run after the issue and tags it with the project).

    Prefect's flow-run heartbeat thread sleeps in whole seconds, so every in-process run
    would wait up to 1 s on exit for it; here it is off, and liveness comes from the run's
    own heartbeat in PostgreSQL (see `flows/heartbeat.py`), which reruns and the reaper use.
    """
    from flows.process_issue import process_issue

    prefect_api_url(current_runtime().settings)
    with _without_flow_heartbeat():
        state = process_issue(issue=issue, issue_key=issue_key, force=force, return_state=True)
    result = state.result(raise_on_failure=False)
    if isinstance(result, BaseException):  # the run broke: raise what broke it
        raise result
    return cast(RunResult, result)  # the flow's state data is its RunResult


def _without_flow_heartbeat() -> SettingsContext:
    """Prefect's current settings with the flow-run heartbeat off."""
    return overridden(get_settings_context(), PREFECT_FLOWS_HEARTBEAT_FREQUENCY, None)
