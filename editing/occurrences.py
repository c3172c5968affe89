"""Exact occurrences of many search texts, found in one pass per group of similar ones.

Proving a search unique with ``str.find`` reads the whole file once per search (up to
the first occurrence, then past it), so a hundred edits on a 5 MB file spent most of
their time there. Searches that share a prefix of ``_KEY`` characters are found together
instead: one regular expression, their common prefix followed by the alternatives, is
searched from each hit's start + 1, so every position where any of them starts is seen,
overlapping ones included (``aa`` twice in ``aaa``). The result is exactly what repeated
``str.find`` gives.

A group is scanned this way only when it is large (``_MIN_GROUP``) and its common prefix
is sparse in the text (at most once per ``_SPARSE`` characters); the regex tries a match
at every occurrence of that prefix, which would otherwise cost more than the finds it
saves. Searches left out are located one by one by the caller, as before.
"""

from __future__ import annotations

import os.path
import re
from collections.abc import Iterable

_KEY = 8
_MIN_GROUP = 8
_SPARSE = 50


def batch_occurrences(text: str, searches: Iterable[str], *, limit: int) -> dict[str, list[int]]:
    """The first ``limit`` offsets of each search of a large, sparse group; others are absent."""
    groups: dict[str, list[str]] = {}
    for search in sorted(set(searches)):
        if len(search) >= _KEY:
            groups.setdefault(search[:_KEY], []).append(search)
    found: dict[str, list[int]] = {}
    for group in groups.values():
        prefix = os.path.commonprefix(group)
        if len(group) >= _MIN_GROUP and text.count(prefix) * _SPARSE <= len(text):
            found.update(scan_occurrences(text, group, limit=limit))
    return found


def scan_occurrences(text: str, searches: Iterable[str], *, limit: int) -> dict[str, list[int]]:
    """The first ``limit`` offsets of each search, ascending, in one regex pass.

    The pattern only holds searches with fewer than ``limit`` offsets so far, so each hit
    records at least one offset and the loop ends after ``limit`` hits per search at most.
    """
    found: dict[str, list[int]] = {search: [] for search in searches}
    pending = sorted(found)
    pattern = _alternation(pending)
    position = 0
    while pending and (match := pattern.search(text, position)) is not None:
        at = match.start()
        hits = [search for search in pending if text.startswith(search, at)]
        for search in hits:
            found[search].append(at)
        if any(len(found[search]) == limit for search in hits):
            pending = [search for search in pending if len(found[search]) < limit]
            if pending:
                pattern = _alternation(pending)
        position = at + 1
    return found


def _alternation(searches: list[str]) -> re.Pattern[str]:
    """The common prefix as a literal up front, so the regex engine scans for it alone."""
    prefix = os.path.commonprefix(searches)
    rests = "|".join(re.escape(search[len(prefix) :]) for search in searches)
    return re.compile(f"{re.escape(prefix)}(?:{rests})")
