"""Locate one edit's search text in the file: a ladder of ever looser comparisons.

1. Exact substring (the normal case; a second occurrence refuses it). The searches of
   a batch are located together where that is cheaper (:mod:`editing.occurrences`). A
   one-line search found after the start of an indented line gets the later lines of
   its replacement indented too (:func:`editing.indent.continuation_prefix`).
2. Whole lines equal once trailing whitespace is ignored.
3. Whole lines equal once a uniform difference in leading indentation is ignored;
   the replacement is re-indented by the same difference.
4. Rungs 1 to 3 again for the search without blank lines at its edges
   (:mod:`editing.blanks`).

A looser rung is tried only when the stricter one finds nothing, and every rung
must find exactly one place. All offsets are in LF-normalised text.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from editing.blanks import closes_with_blank_line, opens_with_blank_line, trim_blank_edges
from editing.indent import (
    Indent,
    continuation_prefix,
    indent_continuation,
    leading,
    reindent,
    uniform_indent,
)
from editing.lines import line_starts
from editing.occurrences import batch_occurrences

_MAX_REPORTED = 5


class MatchKind(enum.Enum):
    """The rung that located an edit; INDENTATION also means its replacement was re-indented."""

    EXACT = "exact"
    TRAILING_WHITESPACE = "trailing-whitespace"
    INDENTATION = "indentation"
    BLANK_LINES = "blank-lines"


@dataclass(frozen=True, slots=True)
class Placement:
    """Where an edit goes (``norm[start:end]``) and the LF text that replaces it."""

    start: int
    end: int
    replacement: str
    kind: MatchKind


@dataclass(frozen=True, slots=True)
class Ambiguity:
    """A search found in several places; ``lines`` are 1-based starts of some of them."""

    kind: MatchKind
    lines: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class UnclearIndent:
    """A one-line search that left out the indentation of ``line``, with a replacement whose
    later lines already carry that ``indent``: relative to the search, or to the file?"""

    line: int
    indent: str


Outcome = Placement | Ambiguity | UnclearIndent | None


class Matcher:
    """Places edits in one text; line tables are built only if a fallback is needed.

    ``searches`` are the ones about to be placed, so similar ones are located in one pass.
    """

    def __init__(self, norm: str, searches: Iterable[str] = ()) -> None:
        self._norm = norm
        self._lines: list[str] | None = None
        self._starts: list[int] = []
        self._indexes: dict[MatchKind, dict[str, list[int]]] = {}
        self._anchored: str | None = None
        plain = (s for s in searches if not (opens_with_blank_line(s) or closes_with_blank_line(s)))
        self._located = batch_occurrences(norm, plain, limit=_MAX_REPORTED)

    @property
    def lines(self) -> list[str]:
        """The text split on LF (the last item is ``""`` when it ends with LF)."""
        if self._lines is None:
            self._lines = self._norm.split("\n")
            self._starts = line_starts(self._lines)
        return self._lines

    def place(self, search: str, replace: str) -> Outcome:
        """Find the single place for ``search``; None when no rung finds it."""
        found = self._climb(search, replace)
        if found is None and (trimmed := trim_blank_edges(search, replace)):
            return _relabel(self._climb(trimmed.search, trimmed.replace), MatchKind.BLANK_LINES)
        return found

    def line_of(self, offset: int) -> int:
        """1-based line number of a normalised offset."""
        return self._norm.count("\n", 0, offset) + 1

    def _climb(self, search: str, replace: str) -> Outcome:
        """Rungs 1 to 3 of the ladder for one search."""
        found = self._exact_offsets(search)
        if len(found) == 1:
            return self._exact_placement(search, found[0], replace)
        if found:
            return Ambiguity(MatchKind.EXACT, tuple(self.line_of(offset) for offset in found))
        wanted = search.split("\n")
        ends_with_newline = wanted[-1] == ""
        if ends_with_newline:
            wanted.pop()
        for kind in (MatchKind.TRAILING_WHITESPACE, MatchKind.INDENTATION):
            hits = self._line_hits(wanted, kind)
            if len(hits) > 1:
                return Ambiguity(kind, tuple(row + 1 for row, _ in hits[:_MAX_REPORTED]))
            if hits:
                row, indent = hits[0]
                return self._line_placement(row, len(wanted), ends_with_newline,
                                            reindent(replace, indent), kind)
        return None

    def _find(self, search: str, start: int = 0) -> int:
        """The next exact occurrence. Blank lines at the edges of ``search`` must be whole
        lines of the file: a leading one is otherwise the end of the line above (which the
        edit would join), a trailing one the indentation of the line below."""
        opens, closes = opens_with_blank_line(search), closes_with_blank_line(search)
        if not (opens or closes):
            return self._norm.find(search, start)
        if self._anchored is None:
            self._anchored = f"\n{self._norm}\n"
        key = ("\n" if opens else "") + search + ("\n" if closes else "")
        found = self._anchored.find(key, start if opens else start + 1)
        return found if found < 0 or opens else found - 1  # the anchor's LF comes first

    def _exact_placement(self, search: str, first: int, replace: str) -> Placement | UnclearIndent:
        """A unique substring; a one-line one found inside a line may need its replacement's
        later lines indented, since they would otherwise start at column 0."""
        end = first + len(search)
        line_start = self._norm.rfind("\n", 0, first) + 1
        if first == line_start or "\n" in search.removesuffix("\n"):
            return Placement(first, end, replace, MatchKind.EXACT)
        line_end = self._norm.find("\n", first)
        line = self._norm[line_start : line_end if line_end >= 0 else len(self._norm)]
        prefix = continuation_prefix(line, first - line_start, replace)
        if prefix is None:
            return UnclearIndent(self.line_of(first), leading(line))
        kind = MatchKind.INDENTATION if prefix else MatchKind.EXACT
        return Placement(first, end, indent_continuation(replace, prefix), kind)

    def _exact_offsets(self, search: str) -> list[int]:
        """The first ``_MAX_REPORTED`` exact occurrences; one means the search is unique."""
        if (located := self._located.get(search)) is not None:
            return located
        found: list[int] = []
        position = self._find(search)
        while position >= 0:
            found.append(position)
            if len(found) == _MAX_REPORTED:
                break
            position = self._find(search, position + 1)
        return found

    def _line_hits(self, wanted: list[str], kind: MatchKind) -> list[tuple[int, Indent | None]]:
        key = _key_of(kind)
        anchor = next(i for i, line in enumerate(wanted) if line.strip())
        lines = self.lines
        real = len(lines) - (lines[-1] == "")  # the "" after a final LF is no blank line
        hits: list[tuple[int, Indent | None]] = []
        for row in self._index(kind).get(key(wanted[anchor]), []):
            top = row - anchor
            if top < 0 or top + len(wanted) > real:
                continue
            block = lines[top : top + len(wanted)]
            if all(key(a) == key(b) for a, b in zip(block, wanted, strict=True)):
                if kind is MatchKind.TRAILING_WHITESPACE:
                    hits.append((top, None))
                elif (indent := uniform_indent(block, wanted)) is not None:
                    hits.append((top, indent))
        return hits

    def _index(self, kind: MatchKind) -> dict[str, list[int]]:
        if kind not in self._indexes:
            key, index = _key_of(kind), dict[str, list[int]]()
            for row, line in enumerate(self.lines):
                index.setdefault(key(line), []).append(row)
            self._indexes[kind] = index
        return self._indexes[kind]

    def _line_placement(
        self, top: int, count: int, ends_with_newline: bool, replace: str, kind: MatchKind
    ) -> Placement:
        last = top + count - 1
        start = self._starts[top]
        end = self._starts[last] + len(self.lines[last])
        if ends_with_newline:
            if last < len(self.lines) - 1:
                end += 1
            else:  # the file has no final newline; do not add one
                replace = replace.removesuffix("\n")
        return Placement(start, end, replace, kind)


def _key_of(kind: MatchKind) -> Callable[[str], str]:
    return str.rstrip if kind is MatchKind.TRAILING_WHITESPACE else str.strip


def _relabel(found: Outcome, kind: MatchKind) -> Outcome:
    """Report a match of the trimmed search under the rung that needed the trimming."""
    if isinstance(found, Placement):
        return dataclasses.replace(found, kind=kind)
    if isinstance(found, Ambiguity):
        return Ambiguity(kind, found.lines)
    return found
