"""Getting the issue and the files to edit, before any LLM spend."""

from __future__ import annotations

from prefect import task

from integrations.git_host import BranchRef
from integrations.jira import Issue, fetch_issue
from sdb_agent.errors import ConfigError
from sdb_agent.settings import get_settings
from sdb_agent.targets import Target
from tasks.context import git_host_for
from tasks.retry import BACKOFF, JITTER, database_hiccup, transient_or_database_hiccup


@task(retries=3, retry_delay_seconds=BACKOFF, retry_jitter_factor=JITTER,
      retry_condition_fn=transient_or_database_hiccup)
def fetch_issue_by_key(key: str) -> Issue:
    """Jira REST v3, for runs triggered with only a key."""
    settings = get_settings()
    if not (settings.jira_base_url and settings.jira_email and settings.jira_api_token):
        raise ConfigError("JIRA_BASE_URL, JIRA_EMAIL and JIRA_API_TOKEN are needed to fetch "
                          f"{key} by key; or pass the issue JSON instead")
    return fetch_issue(base_url=settings.jira_base_url, email=settings.jira_email,
                       api_token=settings.jira_api_token.get_secret_value(), key=key)


@task(retries=3, retry_delay_seconds=BACKOFF, retry_jitter_factor=JITTER,
      retry_condition_fn=database_hiccup)
def find_base(history_id: int) -> BranchRef:
    """The default branch and its head: the base every target is read from."""
    return git_host_for(history_id).default_branch()


@task(retries=3, retry_delay_seconds=BACKOFF, retry_jitter_factor=JITTER,
      retry_condition_fn=database_hiccup)
def read_target(history_id: int, base: BranchRef, target: Target) -> bytes | None:
    """The target's bytes at the base; a missing file is an error unless it is to be created."""
    data = git_host_for(history_id).read_file(base.commit, target.path)
    if data is None and not target.create:
        raise ConfigError(f"TARGETS_FILE names {target.path}, which does not exist on "
                          f"{base.name}; fix the path or set create: true")
    return data
