"""Locate one edit's search text in the file: a ladder of ever looser comparisons.

1. Exact substring (the normal case; two ``str.find`` calls prove uniqueness).
2. Whole lines equal once trailing whitespace is ignored.
3. Whole lines equal once a uniform difference in leading indentation is ignored;
   the replacement is re-indented by the same difference.

A looser rung is tried only when the stricter one finds nothing, and every rung
must find exactly one place. All offsets are in LF-normalised text.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from editing.lines import line_starts

_MAX_REPORTED = 5


class MatchKind(enum.Enum):
    """The rung of the ladder that located an edit."""

    EXACT = "exact"
    TRAILING_WHITESPACE = "trailing-whitespace"
    INDENTATION = "indentation"


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
class _Indent:
    prefix: str
    added: bool  # True: the file is indented deeper than the search by ``prefix``


class Matcher:
    """Places edits in one text; line tables are built only if a fallback is needed."""

    def __init__(self, norm: str) -> None:
        self._norm = norm
        self._lines: list[str] | None = None
        self._starts: list[int] = []
        self._indexes: dict[MatchKind, dict[str, list[int]]] = {}

    @property
    def lines(self) -> list[str]:
        """The text split on LF (the last item is ``""`` when it ends with LF)."""
        if self._lines is None:
            self._lines = self._norm.split("\n")
            self._starts = line_starts(self._lines)
        return self._lines

    def place(self, search: str, replace: str) -> Placement | Ambiguity | None:
        """Find the single place for ``search``; None when no rung finds it."""
        first = self._norm.find(search)
        if first >= 0:
            if self._norm.find(search, first + 1) < 0:
                return Placement(first, first + len(search), replace, MatchKind.EXACT)
            return Ambiguity(MatchKind.EXACT, self._exact_lines(search, first))
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
                                            _reindent(replace, indent), kind)
        return None

    def line_of(self, offset: int) -> int:
        """1-based line number of a normalised offset."""
        return self._norm.count("\n", 0, offset) + 1

    def _exact_lines(self, search: str, first: int) -> tuple[int, ...]:
        found, position = [first], first
        while len(found) < _MAX_REPORTED:
            position = self._norm.find(search, position + 1)
            if position < 0:
                break
            found.append(position)
        return tuple(self.line_of(position) for position in found)

    def _line_hits(self, wanted: list[str], kind: MatchKind) -> list[tuple[int, _Indent | None]]:
        key = _key_of(kind)
        anchor = next(i for i, line in enumerate(wanted) if line.strip())
        lines = self.lines
        hits: list[tuple[int, _Indent | None]] = []
        for row in self._index(kind).get(key(wanted[anchor]), []):
            top = row - anchor
            if top < 0 or top + len(wanted) > len(lines):
                continue
            block = lines[top : top + len(wanted)]
            if all(key(a) == key(b) for a, b in zip(block, wanted, strict=True)):
                if kind is MatchKind.TRAILING_WHITESPACE:
                    hits.append((top, None))
                elif (indent := _uniform_indent(block, wanted)) is not None:
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


def _leading(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _uniform_indent(block: list[str], wanted: list[str]) -> _Indent | None:
    pairs = [(_leading(a), _leading(b)) for a, b in zip(block, wanted, strict=True) if b.strip()]
    have, want = pairs[0]
    if have.endswith(want):
        indent = _Indent(have[: len(have) - len(want)], added=True)
    elif want.endswith(have):
        indent = _Indent(want[: len(want) - len(have)], added=False)
    else:
        return None
    for have, want in pairs:
        deeper, shallower = (have, want) if indent.added else (want, have)
        if deeper != indent.prefix + shallower:
            return None
    return indent


def _reindent(text: str, indent: _Indent | None) -> str:
    if indent is None or not indent.prefix:
        return text
    out = []
    for line in text.split("\n"):
        if not line.strip():
            out.append(line)
        elif indent.added:
            out.append(indent.prefix + line)
        elif line.startswith(indent.prefix):
            out.append(line[len(indent.prefix) :])
        else:
            out.append(line[min(len(indent.prefix), len(_leading(line))) :])
    return "\n".join(out)

