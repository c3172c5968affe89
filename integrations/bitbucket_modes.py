"""Files' upload attributes (their mode) at a commit, remembered by the process.

A commit's tree never changes, so what `?format=meta` said of a path at a commit hash holds
for good. The commit step needs every file's mode at its parent, which is usually the commit
the run read the files at: remembered here, the commit makes no request for them. Keys are
repository and full commit hash; a branch name, which moves, is never remembered.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Final

COMMIT_HASH = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
REMEMBERED: Final = 10_000  # paths; each entry is a few short strings
UNKNOWN: Final = object()  # not remembered (None is a regular file's attribute)


class ModeMemory:
    """A bounded, thread-safe map of (repository, commit, path) to the upload attribute."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self.size = size
        self._known: OrderedDict[tuple[str, str, str], str | None] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, repository: str, commit: str, path: str, attribute: str | None) -> None:
        if not COMMIT_HASH.fullmatch(commit):
            return
        with self._lock:
            self._known[(repository, commit, path)] = attribute
            self._known.move_to_end((repository, commit, path))
            while len(self._known) > self.size:
                self._known.popitem(last=False)

    def recall(self, repository: str, commit: str, path: str) -> str | None | object:
        """The attribute, or `UNKNOWN`."""
        with self._lock:
            return self._known.get((repository, commit, path), UNKNOWN)


MODES = ModeMemory()
