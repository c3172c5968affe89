"""One signed Jira REST request, recorded attempt by attempt, its failure mapped to base.errors.

Every attempt becomes an `ApiCall` with the endpoint template (`/rest/api/3/issue/{key}/...`,
never a key, query or token) and Jira's own error text. Reads and edits in place (GET, PUT)
are tried twice on a dropped connection or 5xx; a POST is sent once, since a retried comment
that did arrive would be a second comment.
"""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from base.errors import InvalidResponse, NotFound, PermanentError, TransientError
from base.recording import RATE_LIMIT_HEADERS, ApiCall, ApiRecorder
from base.redaction import redact
from integrations.http_transport import SessionTransport, Transport, read_capped
from integrations.jira_site import JiraSite

MAX_JSON_BYTES = 1024 * 1024
RETRIED = frozenset({"GET", "PUT"})
RETRY_DELAY = 0.5


class JiraHttp:
    def __init__(self, site: JiraSite, recorder: ApiRecorder, *,
                 timeout: tuple[float, float] = (5.0, 15.0),
                 transport: Transport | None = None) -> None:
        self.site, self.recorder, self.timeout = site, recorder, timeout
        self.transport = transport or SessionTransport()

    @property
    def api(self) -> str:
        """`/rest/api/3` on Cloud, `/rest/api/2` on Data Center."""
        return f"/rest/api/{self.site.api_version}"

    def send(self, method: str, template: str, *, path: str, body: object = None,
             params: dict[str, str] | None = None) -> Any:
        """The answer's JSON (None for 204). `template` names the endpoint in the history,
        `path` is the real one; both follow `api`."""
        request = requests.Request(
            method, self.site.base_url.rstrip("/") + self.api + path, params=params,
            auth=self.site.basic_auth(), data=None if body is None else json.dumps(body),
            headers={"Accept": "application/json", **self.site.auth_headers(),
                     **({"Content-Type": "application/json"} if body is not None else {})})
        attempts = 2 if method in RETRIED else 1
        for attempt in range(1, attempts + 1):
            started = time.monotonic()
            try:
                with self.transport.send(request, self.timeout) as answer:
                    raw = read_capped(answer.chunks, MAX_JSON_BYTES, "Jira")
                    status, headers = answer.status, answer.headers
            except InvalidResponse as exc:
                self._record(method, template, answer.status, started, attempt, None, str(exc))
                raise
            except requests.RequestException as exc:
                failure = type(exc).__name__
                self._record(method, template, None, started, attempt, None, failure)
                if attempt < attempts:
                    time.sleep(RETRY_DELAY)
                    continue
                raise TransientError(f"Jira {method} {template}: {failure}") from None
            error = None if status < 400 else _error_text(raw, status)
            self._record(method, template, status, started, attempt, headers, error)
            if status >= 500 and attempt < attempts:
                time.sleep(RETRY_DELAY)
                continue
            return _answer(method, template, status, raw, error)
        raise AssertionError("unreachable: the loop returns or raises")

    def _record(self, method: str, template: str, status: int | None, started: float,
                attempt: int, headers: Any, error: str | None) -> None:
        limits = {h: headers[h] for h in RATE_LIMIT_HEADERS if h in headers} if headers else {}
        self.recorder.record_api_call(ApiCall(
            method=method, endpoint=self.api + template, status_code=status,
            duration_seconds=time.monotonic() - started, attempt=attempt,
            rate_limit=limits or None, error=redact(error) if error else None))


def _answer(method: str, template: str, status: int, raw: bytes, error: str | None) -> Any:
    what = f"Jira {method} {template}"
    if status == 429 or status >= 500:
        raise TransientError(f"{what} answered {status}: {error}")
    if status == 404:
        raise NotFound(f"{what} answered 404: {error}")
    if status >= 400:
        raise PermanentError(f"{what} answered {status}: {error}")
    if status == 204 or not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise InvalidResponse(f"{what} answered non-JSON") from None


def _error_text(raw: bytes, status: int) -> str:
    """Jira's `errorMessages` and `errors` ("Status codes", REST v3 intro), else the status."""
    try:
        payload = json.loads(raw)
    except ValueError:
        return f"HTTP {status}"
    if not isinstance(payload, dict):
        return f"HTTP {status}"
    messages = [str(m) for m in payload.get("errorMessages") or []]
    errors = payload.get("errors")
    if isinstance(errors, dict):
        messages += [f"{k}: {v}" for k, v in errors.items()]
    return "; ".join(messages)[:500] or f"HTTP {status}"
