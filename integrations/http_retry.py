"""The one retry layer for git-host HTTP calls: which failures retry, and how long to wait.

5xx, timeouts and dropped connections back off exponentially with full jitter (about 7.5 s
in all by default), honouring a Retry-After when one comes (capped). Other 4xx never retry.

A 429 is different: Bitbucket's limit is a one-hour rolling window and no Retry-After is
promised (support.atlassian.com/bitbucket-cloud/docs/api-request-limits/), so seconds of
back-off cannot help. A 429 is retried here only when it names a short Retry-After;
otherwise it is `RateLimited`, which the Prefect tasks retry minutes later
(tasks/git_host_retry.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from base.errors import TransientError
from base.jitter import jitter

SERVER_ERRORS = frozenset({500, 502, 503, 504})


class RateLimited(TransientError):
    """The git host's rate limit is spent: retry when its window has room again."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        seconds = _seconds(retry_after)
        if seconds is not None:
            return min(seconds, self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return jitter(ceiling / 2, ceiling)

    def rate_limit_wait(self, retry_after: str | None) -> float | None:
        """Seconds to wait before retrying a 429 here, or None: leave it to a later retry."""
        seconds = _seconds(retry_after)
        return seconds if seconds is not None and seconds <= self.max_retry_after else None


def _seconds(retry_after: str | None) -> float | None:
    """A Retry-After in seconds; None when absent or not a number (an HTTP-date is not
    waited for)."""
    if not retry_after:
        return None
    try:
        return max(float(retry_after), 0.0)
    except ValueError:
        return None
