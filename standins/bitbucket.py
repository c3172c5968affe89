"""Bitbucket Cloud REST 2.0 emulator over a real git repository.

It answers the calls the agent makes (repository, branches, files and directories, multipart
commits to ``/src``, pull requests) with Bitbucket's status codes, error JSON and rate-limit
headers, and stores commits in git byte for byte (modes included) so tests can check exactly
what a client uploaded.

Rate limit (support.atlassian.com/bitbucket-cloud/docs/api-request-limits/): a one-hour
rolling window, 429 past it with no Retry-After promised. The headers X-RateLimit-Limit,
X-RateLimit-Resource and X-RateLimit-NearLimit come with access-token requests only (Atlassian's
"Introducing scaled rate limits" post and its support answers on the community forum); when
NearLimit turns true is not documented: here, when under a fifth of the hour's allowance is
left.
"""

from __future__ import annotations

import base64
import hmac
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

from standins.bitbucket_comments import (
    Account,
    Comment,
    CommentStore,
    comment_document,
    comment_event,
)
from standins.bitbucket_prs import PullRequest, PullRequestStore
from standins.bitbucket_routes import BitbucketRoutes
from standins.bitbucket_views import Views, error
from standins.faults import Fault
from standins.git_store import Commit, GitStore
from standins.messages import RecordedRequest, Reply, json_reply
from standins.server import StandinServer

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
        username: str | None = None,  # with an API token: the Atlassian account email
        api_token: str | None = None,
        rate_limit: int = 1000,
        rate_window: float = 3600.0,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not access_token and not (username and api_token):
            raise ValueError("give an access token, or a username and API token")
        # support.atlassian.com/bitbucket-cloud/docs/using-api-tokens/: Basic auth with an API
        # token takes the Atlassian account email; a Bitbucket username answers 401.
        if api_token and username and "@" not in username:
            raise ValueError("an API token's Basic-auth user name is the Atlassian account email")
        super().__init__(host=host, port=port, latency=latency)
        self.git = GitStore(repo_path)
        if not self.git.is_repository():
            raise ValueError(f"not a git repository: {repo_path}")
        self.workspace, self.repo_slug = workspace, repo_slug
        self._access_token = access_token
        self._basic = f"{username}:{api_token}" if username and api_token else None
        self.author = f"Stand-in <{username or 'standin@example.com'}>"
        self.account = Account.named("sdb-agent")  # the token's owner: author of its PRs
        self.comments = CommentStore()
        self.permissions: dict[str, str] = {}  # account uuid or id -> read | write | admin
        self.rate_limit, self.rate_window, self.clock = rate_limit, rate_window, clock
        self._rate_lock = threading.Lock()
        self._answered: deque[float] = deque()  # when each request of the window came
        self.prs = PullRequestStore()
        self.commit_lock = threading.Lock()

    @staticmethod
    def create_repository(
        path: str | os.PathLike[str], files: dict[str, bytes], modes: dict[str, str] | None = None
    ) -> Path:
        """A fresh bare repository whose ``main`` branch holds ``files`` in one commit, with
        git modes from ``modes`` (e.g. ``git_store.EXECUTABLE``; regular otherwise)."""
        return GitStore.create(path, files, modes).path

    # -- inspection helpers for tests ------------------------------------------------------------

    def branch_tip(self, name: str) -> str | None:
        return self.git.branch_tip(name)

    def mode_at(self, ref: str, path: str) -> str:
        """The git mode of ``path`` at ``ref`` (100644, 100755, 120000, ...)."""
        commit = self.git.resolve(ref)
        entry = self.git.entry(commit, path) if commit else None
        if entry is None:
            raise KeyError(f"{path} at {ref}")
        return entry.mode

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

    def grant(self, account: Account, permission: str) -> None:
        """An explicit repository permission, as `permissions-config` lists it."""
        self.permissions[account.uuid] = self.permissions[account.account_id] = permission

    def comment(self, pr_id: int, raw: str, user: Account, *,
                inline: dict[str, object] | None = None, parent: int | None = None) -> Comment:
        """A comment someone wrote on the PR in Bitbucket's UI."""
        return self.comments.add(pr_id, raw, user, inline=inline, parent=parent)

    def comment_event(self, comment: Comment, actor: Account | None = None) -> dict[str, object]:
        """The `pullrequest:comment_created` body Bitbucket sends for `comment`."""
        pr = self.prs.get(comment.pr_id)
        if pr is None:
            raise KeyError(comment.pr_id)
        views = self.views
        pr_doc = views.pull_request(pr, self.git.branch_tip(pr.source))
        pr_api = f"{views.repo_api}/pullrequests/{pr.id}"
        return comment_event(
            actor=actor or comment.user, pullrequest=pr_doc,
            comment=comment_document(comment, pr_api, f"{views.repo_html}/pull-requests/{pr.id}"),
            repository=views.repository(self.git.head_branch()))

    # -- HTTP --------------------------------------------------------------------------------------

    @property
    def views(self) -> Views:
        return Views(self.base_url, self.workspace, self.repo_slug, self.account.document())

    def error_reply(self, status: int, message: str) -> Reply:
        return json_reply(status, error(_MESSAGES.get(status, message)))

    def rate_headers(self, request: RecordedRequest) -> dict[str, str]:
        """The documented headers, for an access-token (Bearer) request only."""
        if not request.headers.get("authorization", "").lower().startswith("bearer "):
            return {}
        with self._rate_lock:
            left = self.rate_limit - len(self._answered)
        return {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Resource": "api",
            "X-RateLimit-NearLimit": "true" if left < self.rate_limit / 5 else "false",
        }

    def fault_reply(self, request: RecordedRequest, fault: Fault) -> Reply:
        reply = super().fault_reply(request, fault)
        reply.headers = {**self.rate_headers(request), **reply.headers}
        return reply

    def handle(self, request: RecordedRequest) -> Reply:
        if not self._authorized(request.headers.get("authorization", "")):
            reply = json_reply(401, error("Access token or credentials are invalid or missing."))
            reply.headers["WWW-Authenticate"] = 'Basic realm="Bitbucket.org HTTP"'
            return reply
        reply = self._route(request) if self._take_rate_token() else self.error_reply(429, "")
        reply.headers = {**self.rate_headers(request), **reply.headers}
        return reply

    def _route(self, request: RecordedRequest) -> Reply:
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
        """A rolling window: a request counts until ``rate_window`` seconds after it came."""
        with self._rate_lock:
            now = self.clock()
            while self._answered and now - self._answered[0] >= self.rate_window:
                self._answered.popleft()
            if len(self._answered) >= self.rate_limit:
                return False
            self._answered.append(now)
            return True
