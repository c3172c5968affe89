"""Blank lines at the edges of a search that the file does not have there.

Models sometimes start or end a search with a blank line of their own (Aider's editblock
coder drops a spurious leading one for the same reason). Blank lines at the edges of a
search are found only as whole lines of the file (see ``Matcher._find``). When a search is
found nowhere, the matcher tries once more without them. As many blank lines, at most, go
from the same edge of the replacement: the model copied them there as unchanged context,
and keeping them would add blank lines it never meant to write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Trimmed:
    """An edit without the blank lines at the edges of its search."""

    search: str
    replace: str


def trim_blank_edges(search: str, replace: str) -> Trimmed | None:
    """The edit without its search's edge blank lines; None if it has none, or is then a no-op."""
    rows = _rows(search)
    lead, trail = _blank_run(rows), _blank_run(rows[::-1])
    if lead == len(rows) or not lead + trail:
        return None
    new = _rows(replace)
    new = new[min(lead, _blank_run(new)) :]
    new = new[: len(new) - min(trail, _blank_run(new[::-1]))]
    trimmed = Trimmed("".join(rows[lead : len(rows) - trail]), "".join(new))
    return None if trimmed.search == trimmed.replace else trimmed


def opens_with_blank_line(search: str) -> bool:
    """True when the first line of ``search`` is blank and more lines follow it."""
    head, newline, _ = search.partition("\n")
    return bool(newline) and not head.strip()


def closes_with_blank_line(search: str) -> bool:
    """True when ``search`` ends with whitespace after its last LF: part of a line."""
    _, newline, tail = search.rpartition("\n")
    return bool(newline and tail) and not tail.strip()


def _rows(text: str) -> list[str]:
    """Lines that keep their LF; ``str.splitlines`` would also split on form feeds and CRs."""
    parts = text.split("\n")
    rows = [part + "\n" for part in parts[:-1]]
    return rows + [parts[-1]] if parts[-1] else rows


def _blank_run(rows: Sequence[str]) -> int:
    """How many of ``rows``, from the first, are blank."""
    return next((count for count, row in enumerate(rows) if row.strip()), len(rows))
