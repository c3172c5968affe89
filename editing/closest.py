"""Find the file lines closest to a search that matched nowhere, for the retry prompt.

A no-match is usually a near miss (a renamed variable, a paraphrased comment);
quoting the closest block lets the LLM copy the real text on its next attempt.
Candidates come from ``difflib.get_close_matches`` on distinct lines, so the cost
stays near-linear in the file even for large files.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from editing.lines import numbered

_PROBE_LINES = 8
_HITS_PER_LINE = 10


def closest_block(lines: Sequence[str], search: str) -> str:
    """Quote, with line numbers, the block of ``lines`` most similar to ``search``."""
    wanted = search.rstrip("\n").split("\n")
    by_key: dict[str, list[int]] = {}
    for number, line in enumerate(lines):
        if key := line.strip():
            by_key.setdefault(key, []).append(number)
    starts: set[int] = set()
    probes = [(offset, line.strip()) for offset, line in enumerate(wanted) if line.strip()]
    for offset, probe in probes[:_PROBE_LINES]:
        for key in difflib.get_close_matches(probe, by_key, n=3, cutoff=0.5):
            starts.update(max(0, hit - offset) for hit in by_key[key][:_HITS_PER_LINE])
    if not starts:
        return "(no similar lines found in the file)"
    target = "\n".join(line.strip() for line in wanted)

    def similarity(start: int) -> float:
        block = "\n".join(line.strip() for line in lines[start : start + len(wanted)])
        return difflib.SequenceMatcher(None, block, target, autojunk=False).ratio()

    best = max(sorted(starts), key=similarity)
    return numbered(lines[best : best + len(wanted)], first=best + 1)
