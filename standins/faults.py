"""Fault injection shared by the stand-ins, so clients can be tested against real failure modes.

A plan holds rules "serve this fault to the next N requests matching this route". Routes are
matched against ``f"{method} {path}"`` (path without query string): ``"*"`` matches everything,
``"POST /src"`` matches a POST whose path contains ``/src``, and any other text matches as a
plain substring.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class Status:
    """Answer with this status and the service's own error JSON (or ``body`` if given)."""

    code: int
    retry_after: float | None = None
    body: object = None


@dataclass(frozen=True)
class Delay:
    """Sleep before answering normally, to push a client past its timeout."""

    seconds: float


@dataclass(frozen=True)
class Reset:
    """Drop the connection with a TCP reset instead of answering."""


@dataclass(frozen=True)
class Malformed:
    """Answer 200 with a JSON content type but a truncated, undecodable body."""


@dataclass(frozen=True)
class Oversized:
    """Answer 200 with a syntactically valid JSON body of ``n_bytes`` bytes."""

    n_bytes: int


@dataclass(frozen=True)
class Truncated:
    """LLM only: the completion stops at the token limit with half-written JSON."""


@dataclass(frozen=True)
class Refusal:
    """LLM only: the model refuses; ``message.refusal`` is set and content is null."""

    text: str = "I'm sorry, but I can't assist with that request."


Fault = Status | Delay | Reset | Malformed | Oversized | Truncated | Refusal
GENERIC_FAULTS: tuple[type, ...] = (Status, Delay, Reset, Malformed, Oversized)


@dataclass
class _Rule:
    route: str
    fault: Fault
    remaining: int

    def matches(self, method: str, path: str) -> bool:
        if self.route == "*":
            return True
        verb, _, fragment = self.route.partition(" ")
        if verb in HTTP_METHODS and fragment:
            return verb == method and fragment in path
        return self.route in f"{method} {path}"


class FaultPlan:
    """Thread-safe queue of faults; each request takes at most one, first matching rule first."""

    def __init__(self, supported: tuple[type, ...] = GENERIC_FAULTS) -> None:
        self._supported = supported
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self.served: list[tuple[str, Fault]] = []

    def add(self, route: str, fault: Fault, times: int = 1) -> None:
        if not isinstance(fault, self._supported):
            raise TypeError(f"this stand-in cannot serve {type(fault).__name__} faults")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._rules.append(_Rule(route, fault, times))

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for rule in self._rules:
                if rule.remaining and rule.matches(method, path):
                    rule.remaining -= 1
                    self.served.append((f"{method} {path}", rule.fault))
                    return rule.fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    @property
    def pending(self) -> int:
        """How many faults are still to be served."""
        with self._lock:
            return sum(rule.remaining for rule in self._rules)
