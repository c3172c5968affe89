"""Small helpers for line-oriented views of LF-normalised text."""

from __future__ import annotations

import itertools
from collections.abc import Sequence


def line_starts(lines: Sequence[str]) -> list[int]:
    """Offset of each line of ``"\\n".join(lines)``, plus the total length at the end."""
    return list(itertools.accumulate((len(line) + 1 for line in lines), initial=0))


def numbered(lines: Sequence[str], *, first: int, width: int | None = None) -> str:
    """Render lines as ``  123| code`` so an LLM can cite them; ``first`` is 1-based."""
    width = width or max(len(str(first + len(lines) - 1)), 5)
    return "\n".join(f"{first + i:>{width}}| {line}" for i, line in enumerate(lines))
