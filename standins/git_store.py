"""A real git repository driven through plumbing, so commits hold exactly the bytes received.

No working tree or checkout is involved: blobs are written with ``--no-filters`` (no EOL or
encoding conversion), trees are built in a throwaway index, and branches move by
compare-and-swap so two concurrent commits cannot both win. File modes are kept as given
(regular, executable, symlink), since Bitbucket's ``x-attributes`` set them.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ZERO_OID = "0" * 40
_AUTHOR = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<(?P<email>[^<>]*)>\s*$")
_HEX = re.compile(r"^[0-9a-f]{7,40}$")
# Inherited GIT_DIR / GIT_INDEX_FILE (set inside git hooks) would point git at another repo.
_CLEAN_ENV = {name: value for name, value in os.environ.items() if not name.startswith("GIT_")}
_IDENTITY = ("-c", "user.name=Stand-in", "-c", "user.email=standin@example.com")
REGULAR, EXECUTABLE, SYMLINK, SUBMODULE, TREE = "100644", "100755", "120000", "160000", "040000"


class BranchMoved(Exception):
    """The branch tip was not the one the caller expected."""


@dataclass(frozen=True)
class Commit:
    hash: str
    parents: list[str]
    author: str
    date: str
    message: str


@dataclass(frozen=True)
class TreeEntry:
    """One entry of a tree: ``kind`` is blob, tree or commit (a submodule)."""

    path: str
    mode: str
    kind: str
    oid: str
    size: int | None


def parse_author(raw: str) -> tuple[str, str] | None:
    """``"Name <email>"`` → (name, email), or None if it is not in that form."""
    match = _AUTHOR.match(raw)
    return (match["name"], match["email"]) if match else None


class GitStore:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def git(
        self,
        *args: str,
        stdin: bytes | None = None,
        env: dict[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["git", *_IDENTITY, "-C", str(self.path), *args],
            input=stdin,
            capture_output=True,
            check=check,
            env={**_CLEAN_ENV, **(env or {})},
        )

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        files: dict[str, bytes],
        modes: dict[str, str] | None = None,
    ) -> GitStore:
        """A new bare repository whose ``main`` holds exactly ``files`` in one commit, each
        with its mode from ``modes`` (regular when not given)."""
        subprocess.run(
            ["git", *_IDENTITY, "init", "--bare", "-q", "-b", "main", str(path)],
            check=True,
            capture_output=True,
        )
        store = cls(path)
        store.commit(
            "main", files, "Initial commit", "Stand-in <standin@example.com>", None, modes=modes
        )
        return store

    def is_repository(self) -> bool:
        return (
            self.path.is_dir() and self.git("rev-parse", "--git-dir", check=False).returncode == 0
        )

    def head_branch(self) -> str:
        return self.git("symbolic-ref", "--short", "HEAD").stdout.decode().strip()

    def is_valid_branch_name(self, name: str) -> bool:
        result = self.git("check-ref-format", f"refs/heads/{name}", check=False)
        return not name.startswith("-") and result.returncode == 0

    def branch_tip(self, name: str) -> str | None:
        if not self.is_valid_branch_name(name):
            return None
        return self._rev_parse(f"refs/heads/{name}^{{commit}}")

    def resolve(self, ref: str) -> str | None:
        """A branch, tag or (abbreviated) commit hash → full commit hash."""
        if ref.startswith("-"):
            return None
        for candidate in (f"refs/heads/{ref}", f"refs/tags/{ref}"):
            if (oid := self._rev_parse(f"{candidate}^{{commit}}")) is not None:
                return oid
        return self._rev_parse(f"{ref}^{{commit}}") if _HEX.match(ref) else None

    def read_file(self, commit: str, path: str) -> bytes | None:
        result = self.git("cat-file", "blob", f"{commit}:{path}", check=False)
        return result.stdout if result.returncode == 0 else None

    def entry(self, commit: str, path: str) -> TreeEntry | None:
        """The tree entry at ``path`` ("" is the root directory), or None."""
        if not path:
            oid = self._rev_parse(f"{commit}^{{tree}}")
            return TreeEntry("", TREE, "tree", oid, None) if oid else None
        parent, _, name = path.rpartition("/")
        found = [e for e in self.listing(commit, parent) or [] if e.path == path]
        return found[0] if found else None

    def listing(self, commit: str, path: str) -> list[TreeEntry] | None:
        """The entries of the directory at ``path``, in git's order; None if it is not one.
        A tree-ish (``commit:path``) is read rather than a pathspec, so no character of a
        name acts as a pattern."""
        tree = f"{commit}:{path}" if path else f"{commit}^{{tree}}"
        result = self.git("ls-tree", "-l", "-z", tree, check=False)
        if result.returncode != 0:
            return None
        entries = []
        for record in filter(None, result.stdout.split(b"\0")):
            info, _, name = record.partition(b"\t")
            mode, kind, oid, size = info.decode().split()
            full = f"{path}/{name.decode()}" if path else name.decode()
            entries.append(TreeEntry(full, mode, kind, oid, None if size == "-" else int(size)))
        return entries

    def commit_info(self, oid: str) -> Commit:
        return self.log(oid, limit=1)[0]

    def log(self, rev_range: str, limit: int | None = None) -> list[Commit]:
        """Commits in ``rev_range``, newest first."""
        extra = [f"--max-count={limit}"] if limit else []
        out = self.git(
            "log", "-z", "--format=%H%x1f%P%x1f%an <%ae>%x1f%aI%x1f%B", *extra, rev_range, "--"
        ).stdout.decode("utf-8", "replace")
        commits = []
        for record in filter(None, out.split("\0")):
            oid, parents, author, date, message = record.split("\x1f", 4)
            commits.append(Commit(oid, parents.split(), author, date, message))
        return commits

    def delete_branch(self, name: str) -> None:
        self.git("update-ref", "-d", f"refs/heads/{name}")

    def create_branch(self, name: str, target: str) -> None:
        result = self.git("update-ref", f"refs/heads/{name}", target, ZERO_OID, check=False)
        if result.returncode != 0:
            raise BranchMoved(name)

    def commit(
        self,
        branch: str,
        files: dict[str, bytes],
        message: str,
        author: str,
        parent: str | None,
        expected_tip: str | None = None,
        modes: dict[str, str] | None = None,
    ) -> str:
        """Commit ``files`` on top of ``parent`` and move ``branch`` there if it is still at
        ``expected_tip`` (None: the branch must not exist yet). Each file gets its mode from
        ``modes``, else a regular file's: the upload decides the mode, not the parent."""
        name, email = parse_author(author) or (author, "unknown@example.com")
        identity = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }
        with tempfile.TemporaryDirectory(prefix="standin-index-") as tmp:
            index = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self.git("read-tree", *([parent] if parent else ["--empty"]), env=index)
            entries = b"".join(
                f"{(modes or {}).get(path, REGULAR)} {self._write_blob(data)}\t{path}\0".encode()
                for path, data in files.items()
            )
            self.git("update-index", "-z", "--add", "--index-info", stdin=entries, env=index)
            tree = self.git("write-tree", env=index).stdout.decode().strip()
        parents = ["-p", parent] if parent else []
        oid = (
            self.git("commit-tree", tree, *parents, "-F", "-", stdin=message.encode(), env=identity)
            .stdout.decode()
            .strip()
        )
        old = expected_tip or ZERO_OID
        if self.git("update-ref", f"refs/heads/{branch}", oid, old, check=False).returncode:
            raise BranchMoved(branch)
        return oid

    def _write_blob(self, data: bytes) -> str:
        return (
            self.git("hash-object", "-w", "--stdin", "--no-filters", stdin=data)
            .stdout.decode()
            .strip()
        )

    def _rev_parse(self, spec: str) -> str | None:
        result = self.git("rev-parse", "--verify", "--quiet", spec, check=False)
        return result.stdout.decode().strip() if result.returncode == 0 else None
