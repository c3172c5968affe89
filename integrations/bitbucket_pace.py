"""Slowing down before Bitbucket's rate limit rather than running into it.

Bitbucket counts requests over a one-hour rolling window and says, with
`X-RateLimit-NearLimit: true`, that the limit is close (X-RateLimit-Limit gives the requests
per hour; support.atlassian.com/bitbucket-cloud/docs/api-request-limits/ and Atlassian's
"Introducing scaled rate limits" post). From then on requests are spaced at the hourly pace,
3600 / limit seconds apart: the rate at which a rolling hour frees room, so the window stops
filling. The headers come with access-token requests only; without them nothing is paced.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

logger = logging.getLogger(__name__)
DOCUMENTED_BASE_LIMIT = 1000  # requests per hour, when X-RateLimit-Limit is missing


class RatePacer:
    """Shared by the threads of one client, whose requests take turns. Waits go through
    `sleep` and time through `clock`, so a test can stand in for both."""

    def __init__(self, sleep: Callable[[float], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.sleep, self.clock = sleep, clock
        self.interval = 0.0  # seconds between requests; 0 while not near the limit
        self._next_at = 0.0
        self._lock = threading.Lock()

    def before_request(self) -> None:
        """Wait for this request's turn while the limit is near."""
        with self._lock:
            if not self.interval:
                return
            now = self.clock()
            wait = self._next_at - now
            self._next_at = max(now, self._next_at) + self.interval
        if wait > 0:
            self.sleep(wait)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Take the pace from an answer's rate-limit headers (kept when it has none)."""
        flag = headers.get("X-RateLimit-NearLimit")
        if flag is None:
            return
        near = flag.strip().lower() == "true"
        interval = 3600 / _limit(headers.get("X-RateLimit-Limit")) if near else 0.0
        with self._lock:
            if interval and not self.interval:
                logger.warning("Bitbucket rate limit is near (%s): one request every %.1f s",
                               headers.get("X-RateLimit-Resource", "api"), interval)
                self._next_at = self.clock() + interval
            self.interval = interval


def _limit(value: str | None) -> int:
    try:
        limit = int(value or "")
    except ValueError:
        return DOCUMENTED_BASE_LIMIT
    return limit if limit > 0 else DOCUMENTED_BASE_LIMIT
