"""Pull requests as Bitbucket Cloud keeps them, with the BBQL subset clients use to find them."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

_CONDITION = re.compile(r'^\s*([a-z_.]+)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$')


class QueryError(ValueError):
    pass


class DuplicatePullRequest(ValueError):
    pass


@dataclass
class PullRequest:
    id: int
    title: str
    description: str
    source: str
    destination: str
    close_source_branch: bool
    author: str
    state: str = "OPEN"
    draft: bool = False
    reviewers: tuple[str, ...] = ()
    created_on: str = ""
    updated_on: str = ""


_FIELDS: dict[str, Callable[[PullRequest], str]] = {
    "source.branch.name": lambda pr: pr.source,
    "destination.branch.name": lambda pr: pr.destination,
    "state": lambda pr: pr.state,
    "title": lambda pr: pr.title,
    "id": lambda pr: str(pr.id),
}


def parse_query(q: str) -> list[tuple[str, str]]:
    """``a.b="x" AND c="y"`` → [(field, value)]; anything richer is refused like a bad query."""
    conditions = []
    for clause in re.split(r"\s+AND\s+", q.strip(), flags=re.IGNORECASE) if q.strip() else []:
        match = _CONDITION.match(clause)
        if not match:
            raise QueryError(f"Invalid query: {clause.strip()!r}")
        if match[1] not in _FIELDS:
            raise QueryError(f"'{match[1]}' is not a valid field name")
        conditions.append((match[1], re.sub(r"\\(.)", r"\1", match[2])))
    return conditions


class PullRequestStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[int, PullRequest] = {}

    def all(self) -> list[PullRequest]:
        with self._lock:
            return list(self._by_id.values())

    def get(self, pr_id: int) -> PullRequest | None:
        with self._lock:
            return self._by_id.get(pr_id)

    def open(
        self,
        title: str,
        description: str,
        source: str,
        destination: str,
        close_source_branch: bool,
        author: str,
        draft: bool = False,
        reviewers: tuple[str, ...] = (),
    ) -> PullRequest:
        """Bitbucket allows one open pull request per source and destination branch."""
        with self._lock:
            for pr in self._by_id.values():
                if (pr.state, pr.source, pr.destination) == ("OPEN", source, destination):
                    raise DuplicatePullRequest(
                        f"There is already an open pull request (#{pr.id}) "
                        f"from {source} to {destination}."
                    )
            now = _now()
            pr = PullRequest(
                len(self._by_id) + 1,
                title,
                description,
                source,
                destination,
                close_source_branch,
                author,
                draft=draft,
                reviewers=reviewers,
                created_on=now,
                updated_on=now,
            )
            self._by_id[pr.id] = pr
            return pr

    def update(self, pr_id: int, **changes: object) -> PullRequest | None:
        with self._lock:
            pr = self._by_id.get(pr_id)
            if pr is not None:
                for name, value in changes.items():
                    setattr(pr, name, value)
                pr.updated_on = _now()
            return pr

    def search(self, conditions: list[tuple[str, str]], states: list[str]) -> list[PullRequest]:
        """Bitbucket lists only OPEN pull requests unless a state is asked for."""
        if not states and not any(name == "state" for name, _ in conditions):
            states = ["OPEN"]
        return [
            pr
            for pr in self.all()
            if (not states or pr.state in states)
            and all(_FIELDS[name](pr) == value for name, value in conditions)
        ]


def _now() -> str:
    return datetime.now(UTC).isoformat()
