"""The git-host interface the flow relies on, implemented by Bitbucket Cloud and local git.

Both hosts record every call into `bitbucket_api_history` through an `ApiRecorder`, refuse
paths that could leave the repository, and make branch, commit and PR creation safe to repeat.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from base.recording import ApiRecorder


@dataclass(frozen=True)
class BranchRef:
    name: str
    commit: str


@dataclass(frozen=True)
class PullRequest:
    id: str
    url: str
    title: str
    description: str
    source_branch: str
    destination_branch: str


@dataclass(frozen=True)
class PullRequestOptions:
    """How a new PR is opened: as a draft, and whom to ask for review (Bitbucket account
    UUIDs `{...}` or account ids)."""

    draft: bool = False
    reviewers: tuple[str, ...] = ()


class GitHost(Protocol):
    """What the process-issue flow needs from a git host."""

    recorder: ApiRecorder

    def default_branch(self) -> BranchRef: ...

    def get_branch(self, name: str) -> BranchRef | None: ...

    def create_branch(self, name: str, *, from_commit: str) -> BranchRef:
        """Create `name` at `from_commit`, or return it if it already exists."""
        ...

    def delete_branch(self, name: str, *, if_at: str) -> bool:
        """Delete `name` only while its tip is `if_at` (nothing was committed on it); True
        when it was deleted, False when it is gone or has moved on."""
        ...

    def read_file(self, ref: str, path: str) -> bytes | None:
        """The file's exact bytes at `ref`, or None if it does not exist there; PathRefused
        when the path is not a file to edit (a directory, symlink, submodule, Git LFS file)."""
        ...

    def commit_files(
        self, *, branch: str, parent: str, files: Mapping[str, bytes], message: str, author: str
    ) -> str:
        """One commit holding every file, each keeping its mode at `parent` (an executable
        stays executable); returns its hash."""
        ...

    def find_open_pull_request(self, branch: str, destination: str) -> PullRequest | None: ...

    def create_pull_request(
        self, *, branch: str, destination: str, title: str, description: str,
        options: PullRequestOptions | None = None
    ) -> PullRequest: ...

    def update_pull_request(self, pr: PullRequest, *, title: str, description: str) -> PullRequest:
        ...

    def reply_to_comment(self, pr_id: str, comment_id: int, text: str) -> int:
        """Post `text` as a reply to the PR's comment; the reply's id. A host without PR
        comments refuses with `PermanentError`."""
        ...

    def can_write(self, account: str) -> bool:
        """Whether the account (a UUID `{...}` or account id) may write to the repository."""
        ...
