"""Run the process-issue flow now, in this process, against a real Prefect API."""

from __future__ import annotations

import threading
from typing import Any, cast

from prefect.context import SettingsContext, get_settings_context
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, Settings

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


_derived: tuple[Settings, Settings] | None = None  # (Prefect's settings, the same without)
_derived_lock = threading.Lock()


def _without_flow_heartbeat() -> SettingsContext:
    """Prefect's current settings with the flow-run heartbeat off. Deriving them rebuilds
    every setting from the environment (tens of milliseconds), so it is done once for as
    long as Prefect's settings stay the same object."""
    global _derived
    current = get_settings_context()
    with _derived_lock:
        if _derived is None or _derived[0] is not current.settings:
            _derived = (current.settings, current.settings.copy_with_update(
                updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}))
        return SettingsContext(profile=current.profile, settings=_derived[1])
