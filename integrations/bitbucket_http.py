"""One logical Bitbucket request: auth, retries, pacing, a size cap, and a history row per
attempt, over a `Transport` that only sends.

Every attempt is recorded with its endpoint template (never a token or query value), its real
status code and the rate-limit headers. Retries live in `RetryPolicy` only (the transport
never retries or redirects); a 429 is `RateLimited` for the task to retry later, and requests
slow down while Bitbucket says the limit is near (`RatePacer`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
import requests.auth

from base.errors import InvalidResponse, TransientError
from base.recording import RATE_LIMIT_HEADERS, ApiCall, ApiRecorder
from integrations.bitbucket_pace import RatePacer
from integrations.bitbucket_wire import error_message
from integrations.http_retry import SERVER_ERRORS, RateLimited, RetryPolicy
from integrations.http_transport import Headers, SessionTransport, Transport, read_capped

MAX_JSON_BYTES = 10 * 1024 * 1024
ENDPOINT_PREFIX = "/repositories/{workspace}/{repo_slug}"


class BearerAuth(requests.auth.AuthBase):
    """`Authorization: Bearer <access token>` (repository, project or workspace token)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


class BitbucketHttp:
    def __init__(self, *, api_url: str, workspace: str, repository: str,
                 auth: requests.auth.AuthBase | tuple[str, str], recorder: ApiRecorder,
                 retry: RetryPolicy, timeout: tuple[float, float],
                 sleep: Callable[[float], None], clock: Callable[[], float],
                 transport: Transport | None = None) -> None:
        self.base = api_url.rstrip("/")
        self.repo_path = f"/repositories/{workspace}/{repository}"
        self.auth, self.recorder, self.retry = auth, recorder, retry
        self.timeout, self.sleep = timeout, sleep
        self.pacer = RatePacer(sleep, clock)
        self.transport = transport or SessionTransport()

    def send(self, method: str, template: str, *, path: str = "", limit: int = MAX_JSON_BYTES,
             **kwargs: Any) -> tuple[int, bytes, Headers]:
        """One logical request with retries; returns the final non-retried status, body and
        headers, or raises `TransientError` (`RateLimited` for a 429)."""
        request = requests.Request(method, self.base + self.repo_path + (path or template),
                                   auth=self.auth, **kwargs)
        for attempt in range(1, self.retry.max_attempts + 1):
            self.pacer.before_request()
            started = time.monotonic()
            try:
                with self.transport.send(request, self.timeout) as answer:
                    body = read_capped(answer.chunks, limit, "Bitbucket")
            except InvalidResponse as exc:
                self.record(method, template, answer.status, started, attempt, answer.headers,
                            str(exc))
                raise
            except requests.RequestException as exc:
                failure = f"{type(exc).__name__} on {method} {template}"
                self.record(method, template, None, started, attempt, None, failure)
                if attempt == self.retry.max_attempts:
                    raise TransientError(f"Bitbucket {method} {template}: {failure} "
                                         f"after {attempt} attempts") from None
                self.sleep(self.retry.delay(attempt))
                continue
            status, headers = answer.status, answer.headers
            error = None if status < 400 else error_message(body, status)
            self.record(method, template, status, started, attempt, headers, error)
            self.pacer.observe(headers)
            if status == 429:
                wait = self.retry.rate_limit_wait(headers.get("Retry-After"))
                if wait is None or attempt == self.retry.max_attempts:
                    raise RateLimited(_rate_limited(method, template, headers, error))
                self.sleep(wait)
                continue
            if status not in SERVER_ERRORS:
                return status, body, headers
            if attempt == self.retry.max_attempts:
                raise TransientError(f"Bitbucket {method} {template} answered {status} "
                                     f"after {attempt} attempts: {error}")
            self.sleep(self.retry.delay(attempt, headers.get("Retry-After")))
        raise AssertionError("unreachable: the loop returns or raises")

    def record(self, method: str, template: str, status: int | None, started: float,
               attempt: int, headers: Mapping[str, str] | None, error: str | None) -> None:
        rate_limit = {h: headers[h] for h in RATE_LIMIT_HEADERS if h in headers} if headers else {}
        self.recorder.record_api_call(ApiCall(
            method=method, endpoint=ENDPOINT_PREFIX + template, status_code=status,
            duration_seconds=time.monotonic() - started, attempt=attempt,
            rate_limit=rate_limit or None, error=error))


def _rate_limited(method: str, template: str, headers: Mapping[str, str],
                  error: str | None) -> str:
    limit = headers.get("X-RateLimit-Limit")
    of = f" of {limit} requests" if limit else ""
    return (f"Bitbucket {method} {template} answered 429: {error}; its "
            f"{headers.get('X-RateLimit-Resource', 'api')} rate limit{of} per rolling hour is "
            "spent, so the task retries later")
