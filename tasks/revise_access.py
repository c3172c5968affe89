"""Whether the author of a review comment may have the agent revise the PR.

With REVIEWERS_ALLOWED set, the author's account UUID, account id or nickname must be in
it. Unset, the author needs write access to the repository as the git host reports it
(Bitbucket: an explicit user permission of write or admin; see `bitbucket_comments`).
"""

from __future__ import annotations

from prefect import task

from base.errors import PermanentError
from integrations.bitbucket_events import ReviewComment
from tasks.context import run_context
from tasks.git_host_retry import (
    GIT_HOST_RETRIES,
    GIT_HOST_RETRY_DELAYS,
    rate_limited_or_database_hiccup,
)
from tasks.limits import spend_bitbucket_budget
from tasks.retry import JITTER


@task(retries=GIT_HOST_RETRIES, retry_delay_seconds=GIT_HOST_RETRY_DELAYS,
      retry_jitter_factor=JITTER, retry_condition_fn=rate_limited_or_database_hiccup)
def reviewer_refusal(history_id: int, comment: ReviewComment) -> str | None:
    """Why the author may not ask for a revision, or None when they may."""
    run = run_context(history_id)
    allowed = run.settings.reviewers_allowed_set
    names = {comment.author_uuid, comment.author_account_id, comment.author_nickname}
    if allowed:
        if names & allowed:
            return None
        return f"{comment.author} is not in REVIEWERS_ALLOWED"
    spend_bitbucket_budget(run.settings, 1)
    try:
        if run.git_host().can_write(comment.account):
            return None
    except PermanentError as exc:  # a rate limit or outage is raised: the task retries it
        return f"could not confirm that {comment.author} has write access: {exc}"
    return (f"{comment.author} has no write access to the repository (an explicit user "
            "permission; access through a group is not seen: list them in REVIEWERS_ALLOWED)")
