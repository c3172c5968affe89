"""Repository paths as every git host and the targets file accept them."""

from __future__ import annotations

from pathlib import PurePosixPath

from base.errors import PathRefused


def checked_repo_path(path: str) -> str:
    """The path as a clean repository-relative POSIX path, or PathRefused."""
    if not path or "\x00" in path or "\\" in path:
        raise PathRefused(f"refused path {path!r}: empty, NUL or backslash")
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or pure.parts[:1] == (".git",):
        raise PathRefused(f"refused path {path!r}: it must stay inside the repository")
    return str(pure)
