"""Find the blocks of a source file: brace blocks (tables, enums, functions) and
Python ``def``/``class`` bodies.

The window keeps a block's header and tail next to any hit inside it, because a
"add an entry" change lands at the end of a table or enum, not at the line that
mentions a neighbouring entry. Detection is deliberately rough (strings and
``//`` comments are skipped; nothing is parsed) and never fails on odd input.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_NOISE = re.compile(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|//.*|/\*.*?\*/|#.*")
_PY_BLOCK = re.compile(r"^(\s*)(?:async\s+def|def|class)\s+\w")


@dataclass(frozen=True, slots=True)
class Block:
    """Lines ``header..end`` (0-based, inclusive); ``header`` names the block."""

    header: int
    end: int


def find_blocks(lines: Sequence[str]) -> list[Block]:
    """All brace and Python blocks, sorted by header line."""
    return sorted(_brace_blocks(lines) + _python_blocks(lines), key=lambda b: (b.header, -b.end))


def innermost(blocks: Sequence[Block], row: int) -> Block | None:
    """The smallest block whose lines contain ``row``."""
    inside = [block for block in blocks if block.header <= row <= block.end]
    return min(inside, key=lambda block: block.end - block.header, default=None)


def _brace_blocks(lines: Sequence[str]) -> list[Block]:
    blocks, opened = [], []
    for row, line in enumerate(lines):
        for char in _NOISE.sub("", line):
            if char == "{":
                opened.append(row)
            elif char == "}" and opened:
                start = opened.pop()
                if row > start:
                    blocks.append(Block(_header_of(lines, start), row))
    return blocks


def _header_of(lines: Sequence[str], row: int) -> int:
    """A lone ``{`` belongs to the declaration on the previous non-blank line."""
    if lines[row].strip() != "{":
        return row
    previous = row - 1
    while previous > 0 and not lines[previous].strip():
        previous -= 1
    return max(previous, 0)


def _python_blocks(lines: Sequence[str]) -> list[Block]:
    blocks = []
    for row, line in enumerate(lines):
        match = _PY_BLOCK.match(line)
        if not match or not line.rstrip().endswith(":"):
            continue
        depth, end = len(match.group(1)), row
        for later in range(row + 1, len(lines)):
            text = lines[later]
            if text.strip():
                if len(text) - len(text.lstrip()) <= depth:
                    break
                end = later
        if end > row:
            blocks.append(Block(row, end))
    return blocks
