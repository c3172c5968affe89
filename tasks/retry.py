"""Which failures a Prefect task retry may repeat, so no failure has two retry layers.

The LLM SDK and the Bitbucket client already retry their transport failures; a
`TransientError` from them means their budget is spent, so tasks do not retry it. Tasks
retry what no client retries: a dropped connection to the history database, and (for Jira,
whose client makes one attempt) `TransientError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect.tasks import exponential_backoff
from sqlalchemy.exc import DBAPIError, OperationalError

from base.errors import TransientError
from integrations.email import EmailError

BACKOFF = exponential_backoff(backoff_factor=2)
JITTER = 0.5


def _exception(state: Any) -> BaseException | None:
    try:
        state.result(raise_on_failure=True)
    except BaseException as exc:
        return exc
    return None


def database_hiccup(task: Any, task_run: Any, state: Any) -> bool:
    exc = _exception(state)
    return isinstance(exc, OperationalError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)


def raised_or_database_hiccup(
    *kinds: type[BaseException],
) -> Callable[[Any, Any, Any], bool]:
    """A retry condition: the task raised one of `kinds`, or lost the history database."""
    def condition(task: Any, task_run: Any, state: Any) -> bool:
        return isinstance(_exception(state), kinds) or database_hiccup(task, task_run, state)

    return condition


def transient_or_database_hiccup(task: Any, task_run: Any, state: Any) -> bool:
    return isinstance(_exception(state), TransientError) or database_hiccup(task, task_run, state)


def email_may_succeed_later(task: Any, task_run: Any, state: Any) -> bool:
    """A mail server that was down or busy may take the message later; one that answered
    5xx (wrong password, refused sender) will not."""
    exc = _exception(state)
    return not (isinstance(exc, EmailError) and exc.permanent)
