"""The work branch: a stable name from the issue, created once and reused on reruns."""

from __future__ import annotations

import re

from prefect import task

from db import issue_runs
from integrations.git_host import BranchRef
from tasks.context import run_context
from tasks.git_host_retry import (
    GIT_HOST_RETRIES,
    GIT_HOST_RETRY_DELAYS,
    rate_limited_or_database_hiccup,
)
from tasks.limits import spend_bitbucket_budget
from tasks.retry import JITTER


def branch_name(prefix: str, issue_key: str, summary: str) -> str:
    """`sdb/MAT-42-add-titanium-alloy`: ASCII words of the summary, at most 40 characters."""
    words = re.findall(r"[a-z0-9]+", summary.lower())
    slug = ""
    for word in words:
        if len(slug) + len(word) + 1 > 40:
            break
        slug = f"{slug}-{word}" if slug else word
    return f"{prefix}{issue_key}" + (f"-{slug}" if slug else "")


@task(retries=GIT_HOST_RETRIES, retry_delay_seconds=GIT_HOST_RETRY_DELAYS,
      retry_jitter_factor=JITTER, retry_condition_fn=rate_limited_or_database_hiccup)
def ensure_branch(history_id: int, name: str, base: BranchRef) -> BranchRef:
    """The branch is looked up first, so a rerun makes one request."""
    run = run_context(history_id)
    spend_bitbucket_budget(run.settings, 2)
    branch = run.git_host().create_branch(name, from_commit=base.commit)
    issue_runs.heartbeat(run.engine, history_id, branch_name=branch.name)
    return branch


@task(retries=GIT_HOST_RETRIES, retry_delay_seconds=GIT_HOST_RETRY_DELAYS,
      retry_jitter_factor=JITTER, retry_condition_fn=rate_limited_or_database_hiccup)
def drop_branch_if_empty(history_id: int, name: str, base_commit: str) -> bool:
    """After a run that committed nothing, remove its branch so failed runs do not pile up
    empty `sdb/...` branches; a branch with commits (an earlier run's) is kept."""
    run = run_context(history_id)
    spend_bitbucket_budget(run.settings, 2)
    return run.git_host().delete_branch(name, if_at=base_commit)
