"""Bitbucket Cloud REST 2.0 emulator over a real git repository.

It answers the calls the agent makes (repository, branches, raw files, multipart commits to
``/src``, pull requests) with Bitbucket's status codes, error JSON and rate-limit headers, and
stores commits in git byte for byte so tests can check exactly what a client uploaded.
"""

from __future__ import annotations

import base64
import hmac
import os
import threading
import time
from pathlib import Path
from urllib.parse import unquote

from integrations.standins.bitbucket_prs import PullRequest, PullRequestStore
from integrations.standins.bitbucket_routes import BitbucketRoutes
from integrations.standins.bitbucket_views import Views, error
from integrations.standins.git_store import Commit, GitStore
from integrations.standins.messages import RecordedRequest, Reply, json_reply
from integrations.standins.server import StandinServer

_MESSAGES = {
    400: "Bad request",
    401: "Unauthorized",
    404: "Resource not found",
    409: "Conflict",
    429: "Rate limit for this resource has been exceeded",
    500: "Something went wrong",
    502: "Bad gateway",
    503: "Service unavailable",
}


class BitbucketEmulator(StandinServer):
    prefix = "/2.0"

    def __init__(
        self,
        repo_path: str | os.PathLike[str],
        workspace: str = "workspace",
        repo_slug: str = "repo",
        *,
        access_token: str | None = None,
        username: str | None = None,
        api_token: str | None = None,
        rate_limit: int = 1000,
        rate_window: float = 3600.0,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
    ) -> None:
        if not access_token and not (username and api_token):
            raise ValueError("give an access token, or a username and API token")
        super().__init__(host=host, port=port, latency=latency)
        self.git = GitStore(repo_path)
        if not self.git.is_repository():
            raise ValueError(f"not a git repository: {repo_path}")
        self.workspace, self.repo_slug = workspace, repo_slug
        self._access_token = access_token
        self._basic = f"{username}:{api_token}" if username and api_token else None
        self.author = f"{username or 'Stand-in'} <{username or 'standin'}@example.com>"
        self.rate_limit, self.rate_window = rate_limit, rate_window
        self._rate_lock = threading.Lock()
        self._window_start, self._used = time.monotonic(), 0
        self.prs = PullRequestStore()
        self.commit_lock = threading.Lock()

    @staticmethod
    def create_repository(path: str | os.PathLike[str], files: dict[str, bytes]) -> Path:
        """A fresh bare repository whose ``main`` branch holds ``files`` in one commit."""
        return GitStore.create(path, files).path

    # -- inspection helpers for tests ------------------------------------------------------------

    def branch_tip(self, name: str) -> str | None:
        return self.git.branch_tip(name)

    def file_at(self, ref: str, path: str) -> bytes:
        commit = self.git.resolve(ref)
        data = self.git.read_file(commit, path) if commit else None
        if data is None:
            raise KeyError(f"{path} at {ref}")
        return data

    def commits_on(self, branch: str, since: str | None = None) -> list[Commit]:
        """Commits reachable from the branch (and not from ``since``), newest first."""
        tip = self.git.branch_tip(branch)
        if tip is None:
            raise KeyError(branch)
        return self.git.log(f"{since}..{tip}" if since else tip)

    @property
    def pull_requests(self) -> dict[int, PullRequest]:
        """Live records by id; a test may set ``state`` to "MERGED" or "DECLINED"."""
        return {pr.id: pr for pr in self.prs.all()}

    # -- HTTP --------------------------------------------------------------------------------------

    @property
    def views(self) -> Views:
        return Views(self.base_url, self.workspace, self.repo_slug)

    def error_reply(self, status: int, message: str) -> Reply:
        return json_reply(status, error(_MESSAGES.get(status, message)))

    def common_headers(self) -> dict[str, str]:
        with self._rate_lock:
            near = self._used >= self.rate_limit * 0.8
        return {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Resource": "api",
            "X-RateLimit-NearLimit": "true" if near else "false",
        }

    def handle(self, request: RecordedRequest) -> Reply:
        if not self._authorized(request.headers.get("authorization", "")):
            reply = json_reply(401, error("Access token or credentials are invalid or missing."))
            reply.headers["WWW-Authenticate"] = 'Basic realm="Bitbucket.org HTTP"'
            return reply
        if not self._take_rate_token():
            return self.error_reply(429, "")
        parts = [unquote(part) for part in request.path.split("/")]
        if parts[:3] != ["", "2.0", "repositories"] or len(parts) < 5:
            return self.error_reply(404, "")
        if parts[3:5] != [self.workspace, self.repo_slug]:
            return json_reply(404, error(f"Repository {parts[3]}/{parts[4]} not found"))
        return BitbucketRoutes(self, request).dispatch(parts[5:])

    def _authorized(self, header: str) -> bool:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and self._access_token:
            return hmac.compare_digest(credentials.strip().encode(), self._access_token.encode())
        if scheme.lower() == "basic" and self._basic:
            try:
                decoded = base64.b64decode(credentials.strip(), validate=True)
            except ValueError:
                return False
            return hmac.compare_digest(decoded, self._basic.encode())
        return False

    def _take_rate_token(self) -> bool:
        with self._rate_lock:
            if time.monotonic() - self._window_start >= self.rate_window:
                self._window_start, self._used = time.monotonic(), 0
            if self._used >= self.rate_limit:
                return False
            self._used += 1
            return True
