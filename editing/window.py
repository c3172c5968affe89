"""Prompt windows for large files: the regions most likely to need the edit.

A large file does not fit the prompt, so the LLM sees line-numbered excerpts:
lines that mention the spec's terms, their neighbours, and the header and tail of
the block around each hit (a new table entry goes before the closing ``};``).
Regions are added best-first until the token budget is spent. Edits are still
applied to the whole file, so an excerpt only has to show where to edit.

Tokens are estimated as UTF-8 bytes / 4: code averages about four bytes per BPE
token, and a Hangul syllable (three bytes) then counts as 0.75 token, close to
what current tokenizers spend on Korean.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from editing.lines import numbered
from editing.spec_terms import spec_terms
from editing.structure import find_blocks, innermost

NEIGHBOURS = 2
BLOCK_EDGE = 3
SMALL_BLOCK = 30
_MAX_HITS = 200
_LINE_OVERHEAD = 2  # tokens for the "  123| " prefix and the newline
_GAP = "  ..."


@dataclass(frozen=True, slots=True)
class Region:
    """Lines ``first..last`` of the file, 1-based and inclusive."""

    first: int
    last: int


@dataclass(frozen=True, slots=True)
class Window:
    """The excerpt shown to the LLM and its cost against the whole file."""

    text: str
    regions: tuple[Region, ...]
    tokens: int
    file_tokens: int
    file_lines: int

    @property
    def whole_file(self) -> bool:
        """True when the whole file fitted the budget and nothing was left out."""
        return self.regions == (Region(1, self.file_lines),)


def estimate_tokens(text: str) -> int:
    """Rough prompt cost of ``text``: UTF-8 bytes / 4, rounded up."""
    return math.ceil(len(text.encode("utf-8")) / 4)


def build_window(text: str, spec: str, *, token_budget: int) -> Window:
    """Pick the file's most relevant lines for ``spec`` within ``token_budget`` tokens."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "" and len(lines) > 1:
        lines.pop()
    costs = [estimate_tokens(line) + _LINE_OVERHEAD for line in lines]
    file_tokens = estimate_tokens(text)
    if sum(costs) <= token_budget:
        return _render(lines, set(range(len(lines))), file_tokens)
    chosen: set[int] = set()
    spent = 0
    for first, last in _candidates(lines, spec):
        fresh = [row for row in range(first, last + 1) if row not in chosen]
        cost = sum(costs[row] for row in fresh) + _LINE_OVERHEAD
        if spent + cost <= token_budget:
            chosen.update(fresh)
            spent += cost
    return _render(lines, chosen, file_tokens)


def _candidates(lines: Sequence[str], spec: str) -> list[tuple[int, int]]:
    """Line ranges (0-based, inclusive), best first."""
    scores = _line_scores(lines, spec)
    hits = sorted((row for row, score in enumerate(scores) if score), key=lambda r: -scores[r])
    blocks = find_blocks(lines)
    last_row = len(lines) - 1
    ranked: list[tuple[float, int, int]] = []
    for row in hits[:_MAX_HITS]:
        score = scores[row]
        ranked.append((score, max(0, row - NEIGHBOURS), min(last_row, row + NEIGHBOURS)))
        block = innermost(blocks, row)
        if block is None:
            continue
        if block.end - block.header < SMALL_BLOCK:
            ranked.append((score * 0.9, block.header, block.end))
            continue
        ranked.append((score * 0.9, block.header, block.header + BLOCK_EDGE))
        ranked.append((score * 0.9, block.end - BLOCK_EDGE, block.end))
    ranked.append((0.1, 0, min(last_row, BLOCK_EDGE)))
    ranked.sort(key=lambda item: (-item[0], item[1]))
    return [(first, last) for _, first, last in ranked]


def _line_scores(lines: Sequence[str], spec: str) -> list[float]:
    """Sum of term weights per line; a term found on many lines counts for less."""
    lowered = [line.lower() for line in lines]
    scores = [0.0] * len(lines)
    for term, weight in spec_terms(spec).items():
        rows = [row for row, line in enumerate(lowered) if term in line]
        damping = 1.0 + math.log(1 + len(rows))
        for row in rows:
            scores[row] += weight / damping
    return scores


def _render(lines: Sequence[str], chosen: set[int], file_tokens: int) -> Window:
    width = max(len(str(len(lines))), 5)
    regions: list[Region] = []
    for row in sorted(chosen):
        if regions and regions[-1].last == row:  # Region.last is 1-based: row is next
            regions[-1] = Region(regions[-1].first, row + 1)
        else:
            regions.append(Region(row + 1, row + 1))
    parts = [numbered(lines[r.first - 1 : r.last], first=r.first, width=width) for r in regions]
    text = f"\n{_GAP}\n".join(parts)
    return Window(text, tuple(regions), estimate_tokens(text), file_tokens, len(lines))
