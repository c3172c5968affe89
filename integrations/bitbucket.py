"""Bitbucket Cloud REST 2.0 as a `GitHost`, over `BitbucketHttp` (Bearer or Basic auth).

Branches, files and pull requests as the OpenAPI definition describes them; what `/src`
says about a path and how files are uploaded are in `bitbucket_source`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import requests.auth

from base.errors import Conflict, InvalidResponse, NotFound, PathRefused
from base.recording import ApiRecorder
from base.repo_paths import checked_repo_path
from integrations import bitbucket_comments
from integrations.bitbucket_http import BitbucketHttp
from integrations.bitbucket_modes import MODES, UNKNOWN
from integrations.bitbucket_source import commit_form, upload_attribute
from integrations.bitbucket_wire import field, json_object, quoted, raise_for_status, segment
from integrations.git_host import BranchRef, PullRequest, PullRequestOptions
from integrations.http_retry import RetryPolicy
from integrations.http_transport import Transport

logger = logging.getLogger(__name__)
MAX_CONFLICT_RETRIES = 3
MODE_READS_AT_ONCE = 8  # a commit's metadata reads in flight (one at a time, a round trip each)
META = {"format": "meta"}
SRC, SRC_META = "/src/{commit}/{path}", "/src/{commit}/{path}?format=meta"


class BitbucketClient:
    def __init__(self, *, api_url: str, workspace: str, repository: str,
                 auth: requests.auth.AuthBase | tuple[str, str], recorder: ApiRecorder,
                 retry: RetryPolicy | None = None, timeout: tuple[float, float] = (5.0, 30.0),
                 max_file_bytes: int = 50 * 1024 * 1024,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 transport: Transport | None = None) -> None:
        """`transport` sends each request; by default over HTTP with `requests`."""
        self.recorder = recorder
        self.max_file_bytes = max_file_bytes
        self.http = BitbucketHttp(api_url=api_url, workspace=workspace, repository=repository,
                                  auth=auth, recorder=recorder, retry=retry or RetryPolicy(),
                                  timeout=timeout, sleep=sleep, clock=clock,
                                  transport=transport)

    @property
    def _repository(self) -> str:
        return self.http.base + self.http.repo_path

    # -- GitHost ---------------------------------------------------------------------------

    def default_branch(self) -> BranchRef:
        repo = self._object("GET", "")
        name = field(repo, "mainbranch", "name")
        branch = self.get_branch(name)
        if branch is None:
            raise NotFound(f"the main branch {name!r} does not exist")
        return branch

    def get_branch(self, name: str) -> BranchRef | None:
        try:
            data = self._object("GET", "/refs/branches/{name}",
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
        status, body, _ = self.http.send("POST", "/refs/branches",
                                         json={"name": name, "target": {"hash": from_commit}})
        if status != 201:
            now = self.get_branch(name)
            if now is not None and now.commit == from_commit:
                return now  # created meanwhile at the wanted commit (a lost answer, a rerun)
            if now is not None:
                raise Conflict(f"branch {name} was created at {now.commit[:12]} by someone "
                               f"else while this run was creating it at {from_commit[:12]}")
        created = json_object(status, body, "POST /refs/branches", (201,))
        return BranchRef(name=name, commit=field(created, "target", "hash"))

    def delete_branch(self, name: str, *, if_at: str) -> bool:
        # Bitbucket OpenAPI: DELETE /repositories/{workspace}/{repo_slug}/refs/branches/{name}
        # answers 204, or 403/404; it has no compare-and-swap, so the tip is read first.
        branch = self.get_branch(name)
        if branch is None or branch.commit != if_at:
            return False
        status, body, _ = self.http.send("DELETE", "/refs/branches/{name}",
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
            MODES.remember(self._repository, ref, path, None)  # a new file gets no attribute
            return None
        MODES.remember(self._repository, ref, path, upload_attribute(meta, path))
        status, body, _ = self.http.send("GET", SRC, path=where, limit=self.max_file_bytes)
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
            return self._object("GET", SRC_META, path=where, params=META)
        except NotFound:
            status, body, _ = self.http.send("GET", "/src/{commit}/?format=meta",
                                             path=f"/src/{segment(ref)}/", params=META)
            if status == 404:
                raise NotFound(f"Bitbucket has no commit or branch {ref!r}") from None
            raise_for_status(status, body, "GET /src/{commit}/?format=meta", (200,))
            return None

    def _modes(self, parent: str, files: Mapping[str, bytes]) -> dict[str, str | None]:
        """Each file's `x-attributes` as it is at `parent` (a new file has none): as read with
        the file at that commit, else read now, concurrently (the commit waits for all)."""
        def mode(path: str) -> str | None:
            known = MODES.recall(self._repository, parent, path)
            if known is not UNKNOWN:
                return cast(str | None, known)
            meta = self._meta(parent, f"/src/{segment(parent)}/{segment(path)}")
            return None if meta is None else upload_attribute(meta, path)

        with ThreadPoolExecutor(max_workers=max(1, min(MODE_READS_AT_ONCE, len(files)))) as pool:
            return dict(zip(files, pool.map(mode, files), strict=True))

    def commit_files(self, *, branch: str, parent: str, files: Mapping[str, bytes],
                     message: str, author: str) -> str:
        """One commit of `files` on `branch`, each keeping its mode at the parent: the
        OpenAPI definition has an upload decide the mode, so +x must be sent again."""
        files = {checked_repo_path(p): data for p, data in files.items()}
        for _ in range(MAX_CONFLICT_RETRIES + 1):
            form = {"message": message, "branch": branch, "parents": parent, "author": author}
            body, content_type = commit_form(form, files, self._modes(parent, files))
            status, answer, headers = self.http.send("POST", "/src", data=body,
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
            page = self._object("GET", "/pullrequests", path=url_path, params=params)
            for value in page.get("values", []):
                if (field(value, "source", "branch", "name"),
                        field(value, "destination", "branch", "name")) == (branch, destination):
                    return _pull_request(value)
            next_url = page.get("next")
            if not isinstance(next_url, str) or not next_url.startswith(self.http.base):
                return None
            url_path, params = next_url[len(self.http.base + self.http.repo_path):], None
        return None

    def create_pull_request(self, *, branch: str, destination: str, title: str,
                            description: str,
                            options: PullRequestOptions | None = None) -> PullRequest:
        """OpenAPI pullrequest: `draft` opens it as a draft; `reviewers` are accounts, named
        by `uuid` (`{...}`) or `account_id`."""
        options = options or PullRequestOptions()
        data = self._object("POST", "/pullrequests", ok=(200, 201), json={
            "title": title, "description": description,
            "source": {"branch": {"name": branch}},
            "destination": {"branch": {"name": destination}}, "close_source_branch": True,
            "draft": options.draft, "reviewers": [_account(r) for r in options.reviewers]})
        return _pull_request(data)

    def update_pull_request(self, pr: PullRequest, *, title: str,
                            description: str) -> PullRequest:
        data = self._object("PUT", "/pullrequests/{id}", path=f"/pullrequests/{pr.id}",
                            json={"title": title, "description": description})
        return _pull_request(data)

    def reply_to_comment(self, pr_id: str, comment_id: int, text: str) -> int:
        return bitbucket_comments.reply(self.http, pr_id, comment_id, text)

    def can_write(self, account: str) -> bool:
        return bitbucket_comments.can_write(self.http, account)

    def _object(self, method: str, template: str, *, path: str = "",
                ok: tuple[int, ...] = (200,), **kwargs: Any) -> dict[str, Any]:
        """One request whose answer must be a JSON object."""
        status, body, _ = self.http.send(method, template, path=path, **kwargs)
        return json_object(status, body, f"{method} {template}", ok)


def _account(reviewer: str) -> dict[str, str]:
    return {"uuid": reviewer} if reviewer.startswith("{") else {"account_id": reviewer}


def _pull_request(data: dict[str, Any]) -> PullRequest:
    return PullRequest(
        id=field(data, "id"), url=field(data, "links", "html", "href"),
        title=field(data, "title"), description=str(data.get("description") or ""),
        source_branch=field(data, "source", "branch", "name"),
        destination_branch=field(data, "destination", "branch", "name"))
