"""Which target files a review comment may revise; anything else is refused before any spend.

An inline comment revises the file it sits on. A general comment revises the targets it
names (by path or file name); a path it names that is no target is refused, and so is a
comment that names none, since guessing the file would edit what nobody asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from base.targets import Target, TargetsConfig
from integrations.bitbucket_events import ReviewComment

_PATH = re.compile(r"(?<![\w./-])((?:[\w.-]+/)+[\w.-]*\w)(?![\w/-])")


@dataclass(frozen=True)
class Scope:
    """The targets to revise, or why none may be."""

    targets: tuple[Target, ...] = ()
    refusal: str | None = None


def revision_scope(comment: ReviewComment, request: str, targets: TargetsConfig) -> Scope:
    allowed = ", ".join(t.path for t in targets.targets)
    if comment.path is not None:
        target = targets.target(comment.path)
        if target is None:
            return Scope(refusal=f"{comment.path} is not a target file; the agent edits only "
                                 f"{allowed}")
        return Scope((target,))
    named_paths = {m.rstrip(".") for m in _PATH.findall(request)}
    outside = sorted(p for p in named_paths if targets.target(p) is None)
    if outside:
        return Scope(refusal=f"{', '.join(outside)} is not a target file; the agent edits "
                             f"only {allowed}")
    words = set(re.findall(r"[\w.-]+", request))
    chosen = tuple(t for t in targets.targets
                   if t.path in named_paths or PurePosixPath(t.path).name in words)
    if not chosen:
        return Scope(refusal=f"the comment names no target file: comment on a line of the "
                             f"file, or name one of {allowed}")
    return Scope(chosen)
