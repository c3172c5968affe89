"""The agent's reply to a review comment: what changed, or why nothing did.

The text leaves the process, so secrets are masked; and it never addresses the agent (its
mention is defused), so a reply cannot start another revision.
"""

from __future__ import annotations

from prefect import task

from base.errors import PermanentError
from base.redaction import redact
from integrations.bitbucket_events import ReviewComment
from tasks.context import run_context, task_logger
from tasks.git_host_retry import (
    GIT_HOST_RETRIES,
    GIT_HOST_RETRY_DELAYS,
    rate_limited_or_database_hiccup,
)
from tasks.limits import spend_bitbucket_budget
from tasks.retry import JITTER

MAX_REPLY_CHARS = 4000


def reply_text(text: str, *, mention: str, prefix: str) -> str:
    """`text` masked and defused: the mention loses its `@`, a leading prefix is quoted."""
    safe = redact(text)[:MAX_REPLY_CHARS].replace(mention, mention.lstrip("@"))
    return f"`{prefix}`{safe[len(prefix):]}" if safe.startswith(prefix) else safe


@task(retries=GIT_HOST_RETRIES, retry_delay_seconds=GIT_HOST_RETRY_DELAYS,
      retry_jitter_factor=JITTER, retry_condition_fn=rate_limited_or_database_hiccup)
def reply_to_comment(history_id: int, comment: ReviewComment, text: str) -> int | None:
    """The reply's id; None when the host refused it (the run's outcome stands: the reply is
    how people hear of it, the history row is how the team does)."""
    run = run_context(history_id)
    settings = run.settings
    spend_bitbucket_budget(settings, 1)
    body = reply_text(text, mention=settings.agent_mention, prefix=settings.agent_command_prefix)
    try:
        return run.git_host().reply_to_comment(str(comment.pr_id), comment.comment_id, body)
    except PermanentError as exc:  # a rate limit or outage is raised: the task retries it
        task_logger().warning("could not reply to comment %s on PR #%s: %s",
                              comment.comment_id, comment.pr_id, exc)
        return None
