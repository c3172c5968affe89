"""Prefect retries for the tasks that call the git host: its rate limit, or a database hiccup.

Bitbucket counts requests over a one-hour rolling window and promises no Retry-After
(support.atlassian.com/bitbucket-cloud/docs/api-request-limits/). The client therefore
does not wait the window out inside a request: it raises `RateLimited`, and the task is
retried minutes later, shown as AwaitingRetry in the Prefect UI. The delays add up to more
than an hour, so by the last retry a full window has passed.
"""

from __future__ import annotations

from integrations.http_retry import RateLimited
from tasks.retry import raised_or_database_hiccup

GIT_HOST_RETRY_DELAYS: list[float] = [60, 300, 1200, 2400]
GIT_HOST_RETRIES = len(GIT_HOST_RETRY_DELAYS)


rate_limited_or_database_hiccup = raised_or_database_hiccup(RateLimited)
