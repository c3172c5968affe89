"""The edit the engine applies, and the checks any list of them must pass.

The LLM's wire shape is validated where the answer arrives (the LLM client's schema); the
engine takes typed edits only, so it never sees a malformed one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from editing.errors import BlankSearchError, NoEditsError, NoOpEditError


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the one place where ``search`` occurs with ``replace``."""

    search: str
    replace: str


def check_edits(edits: Sequence[Edit]) -> None:
    """Refuse edit lists that cannot be applied to an existing file, whatever it holds."""
    if not edits:
        raise NoEditsError(
            "The edit list is empty. Send at least one {\"search\", \"replace\"} pair, "
            "or leave the file out of the reply if it needs no change."
        )
    for index, edit in enumerate(edits):
        if not edit.search.strip():
            raise BlankSearchError(
                f"Edit {index} has an empty or whitespace-only search. Quote at least one "
                "existing line of the file verbatim so the edit can be located."
            )
        if edit.search == edit.replace:
            raise NoOpEditError(
                f"Edit {index} replaces its search text with identical text. "
                "Drop it, or write the change you intended in \"replace\"."
            )
