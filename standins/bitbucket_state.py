"""What the Bitbucket stand-in's routes share: the repository, its pull requests, the views."""

from __future__ import annotations

import threading
from typing import Protocol

from standins.bitbucket_comments import Account, CommentStore
from standins.bitbucket_prs import PullRequestStore
from standins.bitbucket_views import Views
from standins.git_store import GitStore


class RepositoryState(Protocol):
    """The emulated repository (`BitbucketEmulator`) as its routes see it."""

    git: GitStore
    prs: PullRequestStore
    author: str
    account: Account
    comments: CommentStore
    permissions: dict[str, str]
    commit_lock: threading.Lock

    @property
    def views(self) -> Views: ...
