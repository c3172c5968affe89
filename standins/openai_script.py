"""Scripted model answers, keyed by structured-output schema name and optionally by file path."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Response = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class _Script:
    schema: str
    response: Response
    path: str | None
    remaining: int | None


class ScriptBook:
    """Path-specific scripts win over generic ones (the longest matching path first); scripts
    with ``times`` are used up in the order they were added, those without never run out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: list[_Script] = []

    def add(
        self, schema: str, response: Response, path: str | None = None, times: int | None = None
    ) -> None:
        if times is not None and times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._scripts.append(_Script(schema, response, path, times))

    def answer(
        self, schema: str, text: str, request: dict[str, Any], consume: bool = True
    ) -> dict[str, Any] | None:
        """The scripted answer for this request, or None if nothing is scripted for it;
        ``consume=False`` peeks without using up a counted script."""
        with self._lock:
            candidates = [
                s
                for s in self._scripts
                if s.schema == schema and s.remaining != 0 and (s.path is None or s.path in text)
            ]
            if not candidates:
                return None
            chosen = max(candidates, key=lambda s: -1 if s.path is None else len(s.path))
            if consume and chosen.remaining is not None:
                chosen.remaining -= 1
        response = chosen.response
        return response(request) if callable(response) else response
