"""Bitbucket Cloud REST 2.0 as a `GitHost` (requests; Bearer or Basic auth).

Every HTTP attempt is recorded with its endpoint template (never a token or query value), its
real status code and the rate-limit headers. Transport retries live in `RetryPolicy` only
(urllib3's own retries are off); a 429 is `RateLimited` for the task to retry later, and
requests slow down while Bitbucket says the limit is near (`RatePacer`). Redirects are never
followed. Responses are read with a size cap.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
import requests.auth
from requests.adapters import HTTPAdapter

from integrations.bitbucket_pace import RatePacer
from integrations.bitbucket_source import commit_form, upload_attribute
from integrations.bitbucket_wire import (
    error_message,
    field,
    parse,
    quoted,
    raise_for_status,
    read_capped,
    segment,
)
from integrations.errors import Conflict, InvalidResponse, NotFound, PathRefused, TransientError
from integrations.git_host import BranchRef, PullRequest, checked_repo_path
from integrations.http_retry import SERVER_ERRORS, RateLimited, RetryPolicy
from integrations.recording import RATE_LIMIT_HEADERS, ApiCall, ApiRecorder

logger = logging.getLogger(__name__)
MAX_JSON_BYTES = 10 * 1024 * 1024
MAX_CONFLICT_RETRIES = 3
ENDPOINT_PREFIX = "/repositories/{workspace}/{repo_slug}"
META = {"format": "meta"}
SRC, SRC_META = "/src/{commit}/{path}", "/src/{commit}/{path}?format=meta"


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
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.base = api_url.rstrip("/")
        self.repo_path = f"/repositories/{workspace}/{repository}"
        self.recorder = recorder
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.max_file_bytes = max_file_bytes
        self.sleep = sleep
        self.pacer = RatePacer(sleep, clock)
        self.session = requests.Session()
        self.session.auth = auth
        self.session.mount("http://", HTTPAdapter(max_retries=0))
        self.session.mount("https://", HTTPAdapter(max_retries=0))

    # -- transport -------------------------------------------------------------------------

    def _send(self, method: str, template: str, *, path: str = "", limit: int = MAX_JSON_BYTES,
              **kwargs: Any) -> tuple[int, bytes, requests.structures.CaseInsensitiveDict[str]]:
        """One logical request with retries; returns the final non-retried status, body and
        headers, or raises `TransientError` (`RateLimited` for a 429)."""
        url = self.base + self.repo_path + (path or template)
        for attempt in range(1, self.retry.max_attempts + 1):
            self.pacer.before_request()
            started = time.monotonic()
            try:
                with self.session.request(method, url, timeout=self.timeout, stream=True,
                                          allow_redirects=False, **kwargs) as response:
                    body = read_capped(response, limit)
            except InvalidResponse as exc:
                self._record(method, template, response.status_code, started, attempt,
                             response.headers, str(exc))
                raise
            except requests.RequestException as exc:
                failure = f"{type(exc).__name__} on {method} {template}"
                self._record(method, template, None, started, attempt, None, failure)
                if attempt == self.retry.max_attempts:
                    raise TransientError(f"Bitbucket {method} {template}: {failure} "
                                         f"after {attempt} attempts") from None
                self.sleep(self.retry.delay(attempt))
                continue
            status, headers = response.status_code, response.headers
            error = None if status < 400 else error_message(body, status)
            self._record(method, template, status, started, attempt, headers, error)
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
        raise_for_status(status, body, f"{method} {template}", ok)
        return parse(body, f"{method} {template}")

    # -- GitHost ---------------------------------------------------------------------------

    def default_branch(self) -> BranchRef:
        repo = self._json("GET", "")
        name = field(repo, "mainbranch", "name")
        branch = self.get_branch(name)
        if branch is None:
            raise NotFound(f"the main branch {name!r} does not exist")
        return branch

    def get_branch(self, name: str) -> BranchRef | None:
        try:
            data = self._json("GET", "/refs/branches/{name}",
                              path=f"/refs/branches/{segment(name)}")
        except NotFound:
            return None
        return BranchRef(name=name, commit=field(data, "target", "hash"))

    def create_branch(self, name: str, *, from_commit: str) -> BranchRef:
        """An existing branch is returned where it is (a rerun's). The OpenAPI definition
        gives POST .../refs/branches 201, 403 and 404 only, so a failed create is judged by
        reading the branch again, never by the error's wording."""
        existing = self.get_branch(name)
        if existing is not None:
            return existing
        status, body, _ = self._send("POST", "/refs/branches",
                                     json={"name": name, "target": {"hash": from_commit}})
        if status != 201:
            now = self.get_branch(name)
            if now is not None and now.commit == from_commit:
                return now  # created meanwhile at the wanted commit (a lost answer, a rerun)
            if now is not None:
                raise Conflict(f"branch {name} was created at {now.commit[:12]} by someone "
                               f"else while this run was creating it at {from_commit[:12]}")
        raise_for_status(status, body, "POST /refs/branches", (201,))
        return BranchRef(name=name, commit=field(parse(body), "target", "hash"))

    def delete_branch(self, name: str, *, if_at: str) -> bool:
        # Bitbucket OpenAPI: DELETE /repositories/{workspace}/{repo_slug}/refs/branches/{name}
        # answers 204, or 403/404; it has no compare-and-swap, so the tip is read first.
        branch = self.get_branch(name)
        if branch is None or branch.commit != if_at:
            return False
        status, body, _ = self._send("DELETE", "/refs/branches/{name}",
                                     path=f"/refs/branches/{segment(name)}")
        if status == 404:
            return False
        raise_for_status(status, body, "DELETE /refs/branches/{name}", (204,))
        return True

    def read_file(self, ref: str, path: str) -> bytes | None:
        """The bytes of a regular or executable file; None when `ref` lacks it; NotFound when
        `ref` itself is missing (Bitbucket answers 404 for both); PathRefused for a
        directory, symlink, submodule or Git LFS file (see `bitbucket_source`)."""
        path = checked_repo_path(path)
        where = f"/src/{segment(ref)}/{segment(path)}"
        meta = self._meta(ref, where)
        if meta is None:
            return None
        upload_attribute(meta, path)
        status, body, _ = self._send("GET", SRC, path=where, limit=self.max_file_bytes)
        if 300 <= status < 400:  # OpenAPI: "If the file is managed by LFS ... a 301 redirect"
            raise PathRefused(f"{path} is a Git LFS file (Bitbucket redirects it to media "
                              "storage), not a file to edit")
        if status == 404:
            return None
        raise_for_status(status, body, f"GET {SRC}", (200,))
        return body

    def _meta(self, ref: str, where: str) -> dict[str, Any] | None:
        """The path's `?format=meta` JSON, or None when it is absent from an existing ref."""
        try:
            return self._json("GET", SRC_META, path=where, params=META)
        except NotFound:
            status, body, _ = self._send("GET", "/src/{commit}/?format=meta",
                                         path=f"/src/{segment(ref)}/", params=META)
            if status == 404:
                raise NotFound(f"Bitbucket has no commit or branch {ref!r}") from None
            raise_for_status(status, body, "GET /src/{commit}/?format=meta", (200,))
            return None

    def _modes(self, parent: str, files: Mapping[str, bytes]) -> dict[str, str | None]:
        """Each file's `x-attributes` as it is at `parent` (a new file has none)."""
        modes = {}
        for path in files:
            meta = self._meta(parent, f"/src/{segment(parent)}/{segment(path)}")
            modes[path] = None if meta is None else upload_attribute(meta, path)
        return modes

    def commit_files(self, *, branch: str, parent: str, files: Mapping[str, bytes],
                     message: str, author: str) -> str:
        """One commit of `files` on `branch`, each keeping its mode at the parent: the
        OpenAPI definition has an upload decide the mode, so +x must be sent again."""
        files = {checked_repo_path(p): data for p, data in files.items()}
        for _ in range(MAX_CONFLICT_RETRIES + 1):
            form = {"message": message, "branch": branch, "parents": parent, "author": author}
            body, content_type = commit_form(form, files, self._modes(parent, files))
            status, answer, headers = self._send("POST", "/src", data=body,
                                                 headers={"Content-Type": content_type})
            if status != 409:
                break
            moved = self.get_branch(branch)
            if moved is None or moved.commit == parent:
                break
            logger.warning("branch %s moved to %s; committing on top of it", branch, moved.commit)
            parent = moved.commit
        raise_for_status(status, answer, "POST /src", (201,))
        location = headers.get("Location", "")
        if "/commit/" in location:
            return location.rsplit("/commit/", 1)[1].strip("/")
        tip = self.get_branch(branch)
        if tip is None:
            raise InvalidResponse(f"the commit to {branch} succeeded but the branch is missing")
        return tip.commit

    def find_open_pull_request(self, branch: str, destination: str) -> PullRequest | None:
        query = (f"source.branch.name={quoted(branch)} AND "
                 f"destination.branch.name={quoted(destination)}")
        params: dict[str, str] | None = {"q": query, "state": "OPEN"}
        url_path = "/pullrequests"
        for _ in range(20):
            page = self._json("GET", "/pullrequests", path=url_path, params=params)
            for value in page.get("values", []):
                if (field(value, "source", "branch", "name"),
                        field(value, "destination", "branch", "name")) == (branch, destination):
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


def _rate_limited(method: str, template: str, headers: Mapping[str, str],
                  error: str | None) -> str:
    limit = headers.get("X-RateLimit-Limit")
    of = f" of {limit} requests" if limit else ""
    return (f"Bitbucket {method} {template} answered 429: {error}; its "
            f"{headers.get('X-RateLimit-Resource', 'api')} rate limit{of} per rolling hour is "
            "spent, so the task retries later")


def _pull_request(data: dict[str, Any]) -> PullRequest:
    return PullRequest(
        id=field(data, "id"), url=field(data, "links", "html", "href"),
        title=field(data, "title"), description=str(data.get("description") or ""),
        source_branch=field(data, "source", "branch", "name"),
        destination_branch=field(data, "destination", "branch", "name"))
