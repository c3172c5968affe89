"""Issue to Material DB spec (LLM call kind `issue_spec`)."""

from __future__ import annotations

from prefect import task

from integrations.jira import Issue
from integrations.llm.prompts import Message, spec_messages
from integrations.llm.schemas import Kind
from tasks.context import run_context
from tasks.limits import llm_slot
from tasks.retry import BACKOFF, JITTER, database_hiccup


@task(retries=2, retry_delay_seconds=BACKOFF, retry_jitter_factor=JITTER,
      retry_condition_fn=database_hiccup)
def convert_spec(history_id: int, issue: Issue) -> str:
    run = run_context(history_id)
    with llm_slot(run.settings):
        result = run.llm(run.recorder()).complete(Kind.ISSUE_SPEC, spec_prompt(issue))
    return result.reply.spec_markdown.strip()


def spec_prompt(issue: Issue) -> list[Message]:
    """The spec call's messages (the run's estimate counts them before the call)."""
    return spec_messages(issue_key=issue.key, summary=issue.summary,
                         description=issue.description, clarifications=issue.clarifications)
