"""A spent Bitbucket rate limit makes the git-host tasks retry later, past a rolling hour."""

from __future__ import annotations

from typing import Any

import pytest
from prefect import Task
from prefect.states import Failed
from sqlalchemy.exc import OperationalError

from base.errors import NotFound, TransientError
from integrations.http_retry import RateLimited
from tasks.branch import drop_branch_if_empty, ensure_branch
from tasks.commit import commit_changes
from tasks.git_host_retry import rate_limited_or_database_hiccup
from tasks.intake import read_targets
from tasks.pull_request import open_pull_request

TASKS = [read_targets, ensure_branch, drop_branch_if_empty, commit_changes, open_pull_request]


class TestGitHostTaskRetries:
    @pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
    def test_each_git_host_task_retries_a_rate_limit_until_an_hour_has_passed(
        self, task: Task[..., Any]
    ) -> None:
        assert task.retry_condition_fn is rate_limited_or_database_hiccup
        delays = task.retry_delay_seconds
        assert task.retries == len(delays) and sum(delays) > 3600
        assert delays == sorted(delays) and delays[0] >= 60  # never seconds apart

    @pytest.mark.parametrize(("error", "retried"), [
        (RateLimited("Bitbucket GET answered 429"), True),
        (OperationalError("SELECT 1", {}, Exception("connection lost")), True),
        (TransientError("503 after 5 attempts"), False),  # the client's budget is spent
        (NotFound("no such branch"), False)],
        ids=["rate-limited", "database-hiccup", "transient", "permanent"])
    def test_only_a_rate_limit_or_a_database_hiccup_is_retried(
        self, error: Exception, retried: bool
    ) -> None:
        assert rate_limited_or_database_hiccup(None, None, Failed(data=error)) is retried
