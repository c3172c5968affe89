"""Bitbucket Cloud REST 2.0 as a `GitHost` (requests; Bearer or Basic auth).

Every HTTP attempt is recorded with its endpoint template (never a token or query value), its
real status code and the rate-limit headers. Transport retries live in `RetryPolicy` only
(urllib3's own retries are off). Responses are read with a size cap.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import requests
import requests.auth
from requests.adapters import HTTPAdapter

from integrations.errors import (
    Conflict,
    IntegrationError,
    InvalidResponse,
    NotFound,
    PermanentError,
    TransientError,
)
from integrations.git_host import BranchRef, PullRequest, checked_repo_path
from integrations.http_retry import RETRYABLE_STATUS, RetryPolicy
from integrations.recording import RATE_LIMIT_HEADERS, ApiCall, ApiRecorder

logger = logging.getLogger(__name__)
MAX_JSON_BYTES = 10 * 1024 * 1024
MAX_CONFLICT_RETRIES = 3
ENDPOINT_PREFIX = "/repositories/{workspace}/{repo_slug}"


class BearerAuth(requests.auth.AuthBase):
    """`Authorization: Bearer <access token>` (repository, project or workspace token)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


class BitbucketClient:
    def __init__(self, *, api_url: str, workspace: str, repository: str,
                 auth: requests.auth.AuthBase | tuple[str, str], recorder: ApiRecorder,
                 retry: RetryPolicy | None = None, timeout: tuple[float, float] = (5.0, 30.0),
                 max_file_bytes: int = 50 * 1024 * 1024,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base = api_url.rstrip("/")
        self.repo_path = f"/repositories/{workspace}/{repository}"
        self.recorder = recorder
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.max_file_bytes = max_file_bytes
        self.sleep = sleep
        self.session = requests.Session()
        self.session.auth = auth
        self.session.mount("http://", HTTPAdapter(max_retries=0))
        self.session.mount("https://", HTTPAdapter(max_retries=0))

    # -- transport -------------------------------------------------------------------------

    def _send(self, method: str, template: str, *, path: str = "", limit: int = MAX_JSON_BYTES,
              **kwargs: Any) -> tuple[int, bytes, requests.structures.CaseInsensitiveDict[str]]:
        """One logical request with retries; returns the final 2xx/4xx status, body, headers."""
        url = self.base + self.repo_path + (path or template)
        for attempt in range(1, self.retry.max_attempts + 1):
            started = time.monotonic()
            try:
                with self.session.request(method, url, timeout=self.timeout, stream=True,
                                          **kwargs) as response:
                    body = _read_capped(response, limit)
            except InvalidResponse as exc:
                self._record(method, template, response.status_code, started, attempt,
                             response.headers, str(exc))
                raise
            except requests.RequestException as exc:
                error = f"{type(exc).__name__} on {method} {template}"
                self._record(method, template, None, started, attempt, None, error)
                if attempt == self.retry.max_attempts:
                    raise TransientError(f"Bitbucket {method} {template}: {error} "
                                         f"after {attempt} attempts") from None
                self.sleep(self.retry.delay(attempt))
                continue
            status, headers = response.status_code, response.headers
            error = None if status < 400 else _error_message(body, status)
            self._record(method, template, status, started, attempt, headers, error)
            if status not in RETRYABLE_STATUS:
                return status, body, headers
            if attempt == self.retry.max_attempts:
                raise TransientError(f"Bitbucket {method} {template} answered {status} "
                                     f"after {attempt} attempts: {error}")
            self.sleep(self.retry.delay(attempt, headers.get("Retry-After")))
        raise AssertionError("unreachable: the loop returns or raises")

    def _record(self, method: str, template: str, status: int | None, started: float,
                attempt: int, headers: Mapping[str, str] | None, error: str | None) -> None:
        rate_limit = {h: headers[h] for h in RATE_LIMIT_HEADERS if h in headers} if headers else {}
        self.recorder.record_api_call(ApiCall(
            method=method, endpoint=ENDPOINT_PREFIX + template, status_code=status,
            duration_seconds=time.monotonic() - started, attempt=attempt,
            rate_limit=rate_limit or None, error=error))

    def _json(self, method: str, template: str, *, path: str = "",
              ok: tuple[int, ...] = (200,), **kwargs: Any) -> dict[str, Any]:
        status, body, _ = self._send(method, template, path=path, **kwargs)
        _raise_for_status(status, body, f"{method} {template}", ok)
        try:
            data = json.loads(body)
        except ValueError:
            raise InvalidResponse(f"Bitbucket {method} {template} answered non-JSON") from None
        if not isinstance(data, dict):
            raise InvalidResponse(f"Bitbucket {method} {template} answered a non-object")
        return data

    # -- GitHost ---------------------------------------------------------------------------

    def default_branch(self) -> BranchRef:
        repo = self._json("GET", "")
        name = _field(repo, "mainbranch", "name")
        branch = self.get_branch(name)
        if branch is None:
            raise NotFound(f"the main branch {name!r} does not exist")
        return branch

    def get_branch(self, name: str) -> BranchRef | None:
        try:
            data = self._json("GET", "/refs/branches/{name}",
                              path=f"/refs/branches/{_segment(name)}")
        except NotFound:
            return None
        return BranchRef(name=name, commit=_field(data, "target", "hash"))

    def create_branch(self, name: str, *, from_commit: str) -> BranchRef:
        status, body, _ = self._send("POST", "/refs/branches",
                                     json={"name": name, "target": {"hash": from_commit}})
        if status == 400 and "already exists" in _error_message(body, status).lower():
            existing = self.get_branch(name)
            if existing is not None:
                return existing
        _raise_for_status(status, body, "POST /refs/branches", (200, 201))
        return BranchRef(name=name, commit=_field(_parse(body), "target", "hash"))

    def delete_branch(self, name: str, *, if_at: str) -> bool:
        # Bitbucket OpenAPI: DELETE /repositories/{workspace}/{repo_slug}/refs/branches/{name}
        # answers 204, or 403/404; it has no compare-and-swap, so the tip is read first.
        branch = self.get_branch(name)
        if branch is None or branch.commit != if_at:
            return False
        status, body, _ = self._send("DELETE", "/refs/branches/{name}",
                                     path=f"/refs/branches/{_segment(name)}")
        if status == 404:
            return False
        _raise_for_status(status, body, "DELETE /refs/branches/{name}", (204,))
        return True

    def read_file(self, ref: str, path: str) -> bytes | None:
        path = checked_repo_path(path)
        status, body, _ = self._send("GET", "/src/{commit}/{path}",
                                     path=f"/src/{_segment(ref)}/{_segment(path)}",
                                     limit=self.max_file_bytes)
        if status == 404:
            return None
        _raise_for_status(status, body, "GET /src/{commit}/{path}", (200,))
        return body

    def commit_files(self, *, branch: str, parent: str, files: Mapping[str, bytes],
                     message: str, author: str) -> str:
        parts = [(checked_repo_path(p), (p.rsplit("/", 1)[-1], data, "application/octet-stream"))
                 for p, data in files.items()]
        for _ in range(MAX_CONFLICT_RETRIES + 1):
            form = {"message": message, "branch": branch, "parents": parent, "author": author}
            status, body, headers = self._send("POST", "/src", data=form, files=parts)
            if status != 409:
                break
            moved = self.get_branch(branch)
            if moved is None or moved.commit == parent:
                break
            logger.warning("branch %s moved to %s; committing on top of it", branch, moved.commit)
            parent = moved.commit
        _raise_for_status(status, body, "POST /src", (200, 201))
        location = headers.get("Location", "")
        if "/commit/" in location:
            return location.rsplit("/commit/", 1)[1].strip("/")
        tip = self.get_branch(branch)
        if tip is None:
            raise InvalidResponse(f"the commit to {branch} succeeded but the branch is missing")
        return tip.commit

    def find_open_pull_request(self, branch: str, destination: str) -> PullRequest | None:
        query = (f"source.branch.name={_quoted(branch)} AND "
                 f"destination.branch.name={_quoted(destination)}")
        params: dict[str, str] | None = {"q": query, "state": "OPEN"}
        url_path = "/pullrequests"
        for _ in range(20):
            page = self._json("GET", "/pullrequests", path=url_path, params=params)
            for value in page.get("values", []):
                if (_field(value, "source", "branch", "name"),
                        _field(value, "destination", "branch", "name")) == (branch, destination):
                    return _pull_request(value)
            next_url = page.get("next")
            if not isinstance(next_url, str) or not next_url.startswith(self.base):
                return None
            url_path, params = next_url[len(self.base + self.repo_path):], None
        return None

    def create_pull_request(self, *, branch: str, destination: str, title: str,
                            description: str) -> PullRequest:
        data = self._json("POST", "/pullrequests", ok=(200, 201), json={
            "title": title, "description": description,
            "source": {"branch": {"name": branch}},
            "destination": {"branch": {"name": destination}}, "close_source_branch": True})
        return _pull_request(data)

    def update_pull_request(self, pr: PullRequest, *, title: str,
                            description: str) -> PullRequest:
        data = self._json("PUT", "/pullrequests/{id}", path=f"/pullrequests/{pr.id}",
                          json={"title": title, "description": description})
        return _pull_request(data)


def _quoted(value: str) -> str:
    """A string literal of Bitbucket's query language."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _segment(text: str) -> str:
    """A ref or path for the URL: `#`, `?` and `%` in a name must not end or alter the path."""
    return quote(text, safe="/")


def _read_capped(response: requests.Response, limit: int) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise InvalidResponse(f"Bitbucket response over {limit} bytes; refused")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        raise InvalidResponse("Bitbucket answered non-JSON") from None
    if not isinstance(data, dict):
        raise InvalidResponse("Bitbucket answered a non-object")
    return data


def _error_message(body: bytes, status: int) -> str:
    try:
        message = json.loads(body)["error"]["message"]
        return str(message)[:500]
    except (ValueError, KeyError, TypeError):
        return f"HTTP {status}"


def _raise_for_status(status: int, body: bytes, what: str, ok: tuple[int, ...]) -> None:
    if status in ok:
        return
    message = f"Bitbucket {what} answered {status}: {_error_message(body, status)}"
    error: type[IntegrationError] = {404: NotFound, 409: Conflict}.get(status, PermanentError)
    raise error(message)


def _field(data: Any, *keys: str) -> str:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            raise InvalidResponse(f"Bitbucket response lacks {'.'.join(keys)}")
        data = data[key]
    if not isinstance(data, str | int):
        raise InvalidResponse(f"Bitbucket response has a non-scalar {'.'.join(keys)}")
    return str(data)


def _pull_request(data: dict[str, Any]) -> PullRequest:
    return PullRequest(
        id=_field(data, "id"), url=_field(data, "links", "html", "href"),
        title=_field(data, "title"), description=str(data.get("description") or ""),
        source_branch=_field(data, "source", "branch", "name"),
        destination_branch=_field(data, "destination", "branch", "name"))
