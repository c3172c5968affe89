"""Getting the issue and the files to edit, before any LLM spend."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from prefect import task

from base.errors import ConfigError
from base.targets import Target
from integrations.git_host import BranchRef, GitHost
from integrations.jira import Issue, fetch_issue
from integrations.jira_site import jira_site
from tasks.context import run_context
from tasks.git_host_retry import (
    GIT_HOST_RETRIES,
    GIT_HOST_RETRY_DELAYS,
    rate_limited_or_database_hiccup,
)
from tasks.limits import spend_bitbucket_budget
from tasks.retry import BACKOFF, JITTER, transient_or_database_hiccup
from tasks.runtime import current_runtime


@task(retries=3, retry_delay_seconds=BACKOFF, retry_jitter_factor=JITTER,
      retry_condition_fn=transient_or_database_hiccup)
def fetch_issue_by_key(key: str) -> Issue:
    """Jira Cloud (REST v3) or Data Center (REST v2), for runs triggered with only a key."""
    return fetch_issue(jira_site(current_runtime().settings), key)


@task(retries=GIT_HOST_RETRIES, retry_delay_seconds=GIT_HOST_RETRY_DELAYS,
      retry_jitter_factor=JITTER, retry_condition_fn=rate_limited_or_database_hiccup)
def read_targets(history_id: int, targets: tuple[Target, ...],
                 concurrency: int) -> tuple[BranchRef, list[bytes | None]]:
    """The default branch's head and every target's bytes there, read concurrently.

    A missing file is an error unless the target is to be created: this runs beside the spec
    call (before it under a budget), so a wrong TARGETS_FILE costs at most that call."""
    run = run_context(history_id)
    spend_bitbucket_budget(run.settings, 2 + 2 * len(targets))  # per file: metadata, bytes
    host = run.git_host()
    base = _base_branch(host, run.settings.base_branch)
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        contents = list(pool.map(lambda t: host.read_file(base.commit, t.path), targets))
    missing = [t.path for t, data in zip(targets, contents, strict=True)
               if data is None and not t.create]
    if missing:
        raise ConfigError(f"TARGETS_FILE names {', '.join(missing)}, which does not exist on "
                          f"{base.name}; fix the path or set create: true")
    return base, contents


def _base_branch(host: GitHost, name: str | None) -> BranchRef:
    """The route's (or BASE_BRANCH's) branch, else the repository's main branch."""
    if name is None:
        return host.default_branch()
    found = host.get_branch(name)
    if found is None:
        raise ConfigError(f"the base branch {name} does not exist in the repository")
    return found
