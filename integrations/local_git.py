"""A local git repository as a `GitHost`: for the offline demo, dry runs and local review.

Commits are built with git plumbing on a private index (the working tree is never touched),
from the exact bytes given (`hash-object --no-filters`: no EOL or attribute conversion), and
land with a compare-and-swap `update-ref`, so a moved branch is a `Conflict` as on Bitbucket.
A "pull request" is a durable JSON record under the git directory, one per branch, with a
`local://<repo>#<branch>` URL. Calls are recorded with endpoints named `local:...`.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from base.errors import (
    Conflict,
    IntegrationError,
    NotFound,
    PathRefused,
    PermanentError,
)
from base.recording import ApiCall, ApiRecorder
from base.repo_paths import checked_repo_path
from integrations.git_host import BranchRef, PullRequest, PullRequestOptions

REGULAR_FILE_MODES = frozenset({b"100644", b"100755"})


class LocalGitHost:
    def __init__(self, repo: Path, *, recorder: ApiRecorder) -> None:
        self.repo = repo.resolve()
        self.recorder = recorder
        probe = self._git("rev-parse", "--absolute-git-dir", check=False)
        if probe.returncode != 0:
            raise PermanentError(f"LOCAL_REPO_PATH {self.repo} is not a git repository")
        self.git_dir = Path(probe.stdout.decode().strip())

    def _git(self, *args: str, stdin: bytes | None = None, check: bool = True,
             env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
        result = subprocess.run(["git", "-C", str(self.repo), *args], input=stdin,
                                capture_output=True, env={**os.environ, **(env or {})})
        if check and result.returncode != 0:
            raise IntegrationError(f"git {args[0]} failed: {result.stderr.decode()[-300:]}")
        return result

    @contextmanager
    def _recorded(self, method: str, operation: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        except IntegrationError as exc:
            self._record(method, operation, started, str(exc))
            raise
        self._record(method, operation, started, None)

    def _record(self, method: str, operation: str, started: float, error: str | None) -> None:
        self.recorder.record_api_call(ApiCall(
            method=method, endpoint=f"local:{operation}", status_code=None,
            duration_seconds=time.monotonic() - started, error=error))

    def _rev(self, ref: str) -> str | None:
        result = self._git("rev-parse", "--verify", "-q", f"{ref}^{{commit}}", check=False)
        return result.stdout.decode().strip() or None

    def default_branch(self) -> BranchRef:
        with self._recorded("GET", "default_branch"):
            name = self._git("symbolic-ref", "--short", "HEAD").stdout.decode().strip()
            commit = self._rev(f"refs/heads/{name}")
            if commit is None:
                raise NotFound(f"the default branch {name} has no commit")
        return BranchRef(name, commit)

    def get_branch(self, name: str) -> BranchRef | None:
        with self._recorded("GET", "refs/branches"):
            commit = self._rev(f"refs/heads/{name}")
        return BranchRef(name, commit) if commit else None

    def create_branch(self, name: str, *, from_commit: str) -> BranchRef:
        with self._recorded("POST", "refs/branches"):
            if self._git("check-ref-format", "--branch", name, check=False).returncode != 0:
                raise PermanentError(f"invalid branch name {name!r}")
            existing = self._rev(f"refs/heads/{name}")
            if existing is None:
                created = self._git("update-ref", f"refs/heads/{name}", from_commit, "",
                                    check=False)
                existing = self._rev(f"refs/heads/{name}")
                if created.returncode != 0 and existing is None:
                    raise IntegrationError(f"cannot create branch {name}")
        assert existing is not None
        return BranchRef(name, existing)

    def delete_branch(self, name: str, *, if_at: str) -> bool:
        with self._recorded("DELETE", "delete_branch"):
            deleted = self._git("update-ref", "-d", f"refs/heads/{name}", if_at, check=False)
        return deleted.returncode == 0

    def read_file(self, ref: str, path: str) -> bytes | None:
        """The file's bytes, None when absent; a symlink, submodule or directory is refused
        (writing through it would retarget the link, not edit a file)."""
        path = checked_repo_path(path)
        with self._recorded("GET", "src"):
            listed = self._git("ls-tree", "-z", ref, "--", path, check=False).stdout
            if not listed:
                return None
            mode = listed.split(b" ", 1)[0]
            if mode not in REGULAR_FILE_MODES:
                kind = {b"120000": "a symlink", b"160000": "a submodule"}.get(mode, "a directory")
                raise PathRefused(f"{path} is {kind} in the repository, not a file to edit")
            result = self._git("cat-file", "blob", f"{ref}:{path}", check=False)
        return result.stdout if result.returncode == 0 else None

    def commit_files(self, *, branch: str, parent: str, files: Mapping[str, bytes],
                     message: str, author: str) -> str:
        paths = {checked_repo_path(p): data for p, data in files.items()}
        with self._recorded("POST", "src"):
            commit = self._build_commit(parent, paths, message, author)
            moved = self._git("update-ref", f"refs/heads/{branch}", commit, parent, check=False)
            if moved.returncode != 0:
                raise Conflict(f"branch {branch} moved away from {parent[:12]}")
        return commit

    def _build_commit(self, parent: str, files: Mapping[str, bytes], message: str,
                      author: str) -> str:
        name, _, email = author.partition("<")
        identity = {"GIT_AUTHOR_NAME": name.strip() or "sdb-agent",
                    "GIT_AUTHOR_EMAIL": email.rstrip(">").strip() or "sdb-agent@localhost"}
        identity |= {"GIT_COMMITTER_NAME": identity["GIT_AUTHOR_NAME"],
                     "GIT_COMMITTER_EMAIL": identity["GIT_AUTHOR_EMAIL"]}
        with tempfile.TemporaryDirectory() as scratch:
            index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            self._git("read-tree", parent, env=index)
            for path, data in files.items():
                blob = self._git("hash-object", "-w", "--no-filters", "--stdin", stdin=data)
                mode = self._mode(parent, path)
                self._git("update-index", "--add", "--cacheinfo",
                          f"{mode},{blob.stdout.decode().strip()},{path}", env=index)
            tree = self._git("write-tree", env=index).stdout.decode().strip()
        return self._git("commit-tree", tree, "-p", parent, "-m", message,
                         env=identity).stdout.decode().strip()

    def _mode(self, parent: str, path: str) -> str:
        listing = self._git("ls-tree", parent, "--", path).stdout.decode().split()
        return listing[0] if listing and listing[1] == "blob" else "100644"

    def _pr_file(self, branch: str, destination: str) -> Path:
        digest = hashlib.sha256(f"{branch}\0{destination}".encode()).hexdigest()[:32]
        return self.git_dir / "sdb-agent" / "pull-requests" / f"{digest}.json"

    def find_open_pull_request(self, branch: str, destination: str) -> PullRequest | None:
        with self._recorded("GET", "pullrequests"):
            record = self._pr_file(branch, destination)
            data = json.loads(record.read_text()) if record.exists() else None
        return PullRequest(**data) if data else None

    def create_pull_request(self, *, branch: str, destination: str, title: str,
                            description: str,
                            options: PullRequestOptions | None = None) -> PullRequest:
        """A local PR record has no draft state and no reviewers: `options` are not kept."""
        existing = self.find_open_pull_request(branch, destination)
        if existing is not None:
            return existing
        pr = PullRequest(id=branch, url=f"local://{self.repo}#{branch}", title=title,
                         description=description, source_branch=branch,
                         destination_branch=destination)
        with self._recorded("POST", "pullrequests"):
            self._write_pr(pr)
        return pr

    def update_pull_request(self, pr: PullRequest, *, title: str,
                            description: str) -> PullRequest:
        updated = PullRequest(**{**asdict(pr), "title": title, "description": description})
        with self._recorded("PUT", "pullrequests"):
            self._write_pr(updated)
        return updated

    def _write_pr(self, pr: PullRequest) -> None:
        record = self._pr_file(pr.source_branch, pr.destination_branch)
        record.parent.mkdir(parents=True, exist_ok=True)
        scratch = record.with_suffix(".tmp")
        scratch.write_text(json.dumps(asdict(pr), ensure_ascii=False, indent=2))
        os.replace(scratch, record)

    def reply_to_comment(self, pr_id: str, comment_id: int, text: str) -> int:
        raise PermanentError("the local git host has no pull request comments: revising a PR "
                             "from a review comment needs GIT_PROVIDER=bitbucket")

    def can_write(self, account: str) -> bool:
        raise PermanentError("the local git host has no accounts: set REVIEWERS_ALLOWED or "
                             "use GIT_PROVIDER=bitbucket")
