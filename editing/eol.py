"""Line endings: match on LF-normalised text, write back each line's own ending.

LLMs write LF, files hold CRLF, LF or a mix. Matching runs on a copy where every
CRLF is LF; offsets map back to the real text so a CRLF is never split. New text
takes the endings of the lines it replaces, one by one; any extra line takes the
ending of its neighbourhood. A lone CR is an ordinary character, not an ending.
"""

from __future__ import annotations

import bisect
import enum
import re
from collections import Counter
from collections.abc import Sequence

_ENDING = re.compile(r"\r?\n")


class EolStyle(enum.Enum):
    """The line-ending style of a whole text."""

    LF = "lf"
    CRLF = "crlf"
    MIXED = "mixed"
    NONE = "none"


def eol_style(text: str) -> EolStyle:
    """Classify the endings of ``text``; NONE means it has no line ending at all."""
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    if crlf and lf:
        return EolStyle.MIXED
    if crlf:
        return EolStyle.CRLF
    return EolStyle.LF if lf else EolStyle.NONE


class NormalizedText:
    """``text`` with CRLF folded to LF, plus the map from folded offsets back to ``text``."""

    __slots__ = ("text", "norm", "_folded", "_uniform", "_crlf")

    def __init__(self, text: str) -> None:
        self.text = text
        self.norm = text.replace("\r\n", "\n")
        self._folded = len(text) - len(self.norm)
        self._uniform = self._folded == self.norm.count("\n")  # every LF was a CRLF
        self._crlf: list[int] | None = None

    def to_text(self, offsets: Sequence[int]) -> list[int]:
        """Map ascending offsets in ``norm`` to ``text``; a CRLF counts as one unit."""
        if not self._folded:
            return list(offsets)
        if self._uniform:  # one cheap incremental count instead of a position table
            mapped, folded, cursor = [], 0, 0
            for offset in offsets:
                folded += self.norm.count("\n", cursor, offset)
                cursor = offset
                mapped.append(offset + folded)
            return mapped
        if self._crlf is None:  # folded offset of every LF that was a CRLF, ascending
            found = re.finditer("\r\n", self.text)
            self._crlf = [match.start() - i for i, match in enumerate(found)]
        crlf = self._crlf
        return [offset + bisect.bisect_left(crlf, offset) for offset in offsets]

    def endings_for(self, start: int, end: int, replacement: str) -> str:
        """Give the LF-only ``replacement`` of ``text[start:end]`` the surrounding endings."""
        if "\n" not in replacement:
            return replacement
        old = _ENDING.findall(self.text, start, end)
        fallback = self._neighbour_ending(start, end, old)
        if len(set(old)) <= 1:
            return replacement.replace("\n", old[0] if old else fallback)
        lines = replacement.split("\n")
        out = [lines[0]]
        for number, line in enumerate(lines[1:]):
            out.append(old[number] if number < len(old) else fallback)
            out.append(line)
        return "".join(out)

    def _neighbour_ending(self, start: int, end: int, old: list[str]) -> str:
        if old:
            return Counter(old).most_common(1)[0][0]
        following = self.text.find("\n", end)
        if following >= 0:
            return "\r\n" if self.text[following - 1 : following] == "\r" else "\n"
        preceding = self.text.rfind("\n", 0, start)
        if preceding >= 0:
            return "\r\n" if self.text[preceding - 1 : preceding] == "\r" else "\n"
        return "\n"
