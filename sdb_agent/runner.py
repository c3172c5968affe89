"""Run the process-issue flow now, in this process, against a real Prefect API."""

from __future__ import annotations

from typing import Any

from prefect import tags
from prefect.settings import PREFECT_API_URL, temporary_settings

from deployments.local_prefect import LocalPrefectServer, configured_api_url
from integrations.jira import parse_issue
from sdb_agent.settings import get_settings


def prefect_api_url() -> str:
    """`PREFECT_API_URL` if configured, else the local server in the data directory."""
    return configured_api_url() or LocalPrefectServer(get_settings().data_dir).ensure()


def run_issue_now(*, issue: dict[str, Any] | None, issue_key: str | None,
                  force: bool = False) -> dict[str, Any]:
    """The flow's result; the run is tagged with the issue's project key."""
    from flows.process_issue import process_issue

    key = parse_issue(issue).key if issue is not None else str(issue_key)
    project = key.split("-")[0]
    with temporary_settings(updates={PREFECT_API_URL: prefect_api_url()}), tags(project):
        return process_issue(issue=issue, issue_key=issue_key, force=force)
