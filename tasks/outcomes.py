"""Values passed between the process-issue tasks (plain data, safe to log and persist)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Literal


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one target file; `data` holds the new bytes when `status` is applied."""

    path: str
    status: Literal["applied", "failed"]
    action: Literal["modified", "created"]
    data: bytes | None = field(default=None, repr=False)
    summary: str = ""
    error: str | None = None  # the engine's or service's message (also sent to the model)
    reason: str = ""  # the same in words for people (tasks/failure_words.py)
    edit_count: int = 0
    hunk_count: int = 0
    original_encoding: str | None = None
    final_encoding: str | None = None
    eol: str | None = None
    attempts: int = 0
    tokens: int = 0
    cost: Decimal | None = Decimal(0)
    duration_seconds: float = 0.0
    recording_failures: tuple[str, ...] = ()
    diff_excerpt: str = ""  # the start of the diff, for the files artifact

    def for_history(self) -> dict[str, Any]:
        """JSON-safe summary for result_data (no file bytes; the diff is in its own row)."""
        values = asdict(self)
        values.pop("data")
        values.pop("diff_excerpt")
        values["cost"] = None if self.cost is None else str(self.cost)
        values["recording_failures"] = list(self.recording_failures)
        return values


@dataclass(frozen=True)
class CommitOutcome:
    commit: str | None
    files: tuple[str, ...]
    reused: bool
