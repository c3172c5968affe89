"""Unified diff built from the known edit spans instead of diffing whole files.

Diffing a 5 MB file line by line costs far more than applying the edits, and the
engine already knows every changed region. Each region (the whole lines an edit
touches) is diffed alone with ``difflib``; hunks with three lines of context are
then assembled as ``diff -u`` would, reading only the lines around each hunk. The
diff is of LF-normalised text, so it shows content changes, never the line endings
the engine preserved.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

CONTEXT = 3
_NO_NEWLINE = "\\ No newline at end of file\n"


@dataclass(frozen=True, slots=True)
class Change:
    """Replace ``old[start:end]`` (LF-normalised offsets) with ``replacement``."""

    start: int
    end: int
    replacement: str


@dataclass(frozen=True, slots=True)
class _Block:
    old_start: int  # 0-based first old line of the change
    offset: int  # where that line starts in the old text
    removed: list[str]
    added: list[str]


def unified_diff(
    old: str, changes: Sequence[Change], *, path: str, created: bool = False
) -> tuple[str, int]:
    """Return the diff text (``a/path`` → ``b/path``) and its number of hunks."""
    blocks = [block for region in _regions(old, changes) for block in _blocks(old, *region)]
    if not blocks:
        return "", 0
    hunks = _group(blocks)
    head = "--- /dev/null\n" if created else f"--- a/{path}\n"
    parts = [head, f"+++ b/{path}\n"]
    shift = 0
    for hunk in hunks:
        text, shift = _render(hunk, old, shift)
        parts.append(text)
    return "".join(parts), len(hunks)


def _split(text: str) -> list[str]:
    """Lines with their LF kept; a last line without LF stays as is."""
    pieces = text.split("\n")
    lines = [piece + "\n" for piece in pieces[:-1]]
    return lines + [pieces[-1]] if pieces[-1] else lines


def _regions(old: str, changes: Sequence[Change]) -> list[tuple[int, int, int, list[Change]]]:
    """Group changes into whole-line regions: (first line, start, end, changes)."""
    regions: list[tuple[int, int, int, list[Change]]] = []
    line, scanned = 0, 0
    for change in changes:
        start = old.rfind("\n", 0, change.start) + 1
        end = _line_end(old, change.end) if old[change.end - 1 : change.end] != "\n" else change.end
        tail = old[start : change.start] + change.replacement + old[change.end : end]
        if tail and not tail.endswith("\n") and end < len(old):
            end = _line_end(old, end)  # the edit joins the next line to this one
        if regions and start < regions[-1][2]:
            first, region_start, region_end, grouped = regions[-1]
            grouped.append(change)
            regions[-1] = (first, region_start, max(region_end, end), grouped)
            continue
        line += old.count("\n", scanned, start)
        scanned = start
        regions.append((line, start, end, [change]))
    return regions


def _line_end(text: str, position: int) -> int:
    found = text.find("\n", position)
    return len(text) if found < 0 else found + 1


def _blocks(old: str, first: int, start: int, end: int, changes: list[Change]) -> list[_Block]:
    pieces, cursor = [], start
    for change in changes:
        pieces += [old[cursor : change.start], change.replacement]
        cursor = change.end
    pieces.append(old[cursor:end])
    before, after = _split(old[start:end]), _split("".join(pieces))
    offsets = list(itertools.accumulate(map(len, before), initial=start))
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    return [
        _Block(first + i1, offsets[i1], before[i1:i2], after[j1:j2])
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def _group(blocks: list[_Block]) -> list[list[_Block]]:
    hunks = [[blocks[0]]]
    for block in blocks[1:]:
        previous = hunks[-1][-1]
        if block.old_start - (previous.old_start + len(previous.removed)) <= 2 * CONTEXT:
            hunks[-1].append(block)
        else:
            hunks.append([block])
    return hunks


def _render(hunk: list[_Block], old: str, shift: int) -> tuple[str, int]:
    """One hunk's text; ``shift`` is new-minus-old line count before it."""
    first, old_lines = _hunk_lines(hunk, old)
    stop = first + len(old_lines)
    body: list[str] = []
    cursor, growth = first, 0
    for block in hunk:
        body += [_line(" ", text) for text in old_lines[cursor - first : block.old_start - first]]
        body += [_line("-", text) for text in block.removed]
        body += [_line("+", text) for text in block.added]
        cursor = block.old_start + len(block.removed)
        growth += len(block.added) - len(block.removed)
    body += [_line(" ", text) for text in old_lines[cursor - first :]]
    old_range = _range(first, stop - first)
    new_range = _range(first + shift, stop - first + growth)
    return f"@@ -{old_range} +{new_range} @@\n" + "".join(body), shift + growth


def _hunk_lines(hunk: list[_Block], old: str) -> tuple[int, list[str]]:
    """The old lines a hunk spans, context included, and the 0-based number of the first."""
    head, last = hunk[0], hunk[-1]
    first, start = head.old_start, head.offset
    while first > 0 and first > head.old_start - CONTEXT:
        first, start = first - 1, old.rfind("\n", 0, start - 1) + 1
    end = last.offset + sum(map(len, last.removed))
    for _ in range(CONTEXT):
        end = _line_end(old, end)
    return first, _split(old[start:end])


def _range(start: int, length: int) -> str:
    if length == 1:
        return str(start + 1)
    return f"{start if length == 0 else start + 1},{length}"


def _line(prefix: str, text: str) -> str:
    return prefix + text if text.endswith("\n") else f"{prefix}{text}\n{_NO_NEWLINE}"
