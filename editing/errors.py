"""Typed refusals of the edit engine.

Every refusal derives from :class:`EditError`, so the flow can catch one type,
store ``str(error)`` in history and feed it back to the LLM verbatim. Messages
say what was refused and what to do instead. No refusal leaves partial output:
errors are raised before any bytes are produced.
"""

from __future__ import annotations

from collections.abc import Sequence


class EditError(Exception):
    """Base of every refusal raised by :mod:`editing`."""


# --- the edit list itself -------------------------------------------------


class InvalidEditsError(EditError):
    """The edit list is malformed; the LLM must send a corrected reply."""


class NoEditsError(InvalidEditsError):
    """An existing file was given an empty edit list."""


class BlankSearchError(InvalidEditsError):
    """A search text is empty or only whitespace, so it cannot locate anything."""


class NoOpEditError(InvalidEditsError):
    """A replacement is identical to its search text."""


# --- the file -------------------------------------------------------------


class FileRefusedError(EditError):
    """The target file cannot be edited safely as text."""


class FileTooLargeError(FileRefusedError):
    """The file is larger than the configured ``max_bytes``."""


class BinaryFileError(FileRefusedError):
    """The file holds NUL bytes outside UTF-16 and is treated as binary."""


class EncodingConfigError(FileRefusedError):
    """A configured or default encoding is unknown or cannot be spliced byte-wise."""


class UndecodableFileError(FileRefusedError):
    """No candidate encoding decodes the file and re-encodes it to the same bytes."""


# --- matching -------------------------------------------------------------


class MatchError(EditError):
    """An edit could not be placed; carries which edits matched so a retry can focus."""

    def __init__(
        self,
        message: str,
        *,
        edit_index: int,
        matched: Sequence[int] = (),
        failed: Sequence[int] = (),
    ) -> None:
        self.edit_index = edit_index
        self.matched = tuple(matched)
        self.failed = tuple(failed) or (edit_index,)
        super().__init__(message + _outcome_note(self.edit_index, self.matched, self.failed))


def _outcome_note(index: int, matched: tuple[int, ...], failed: tuple[int, ...]) -> str:
    others = [str(i) for i in failed if i != index]
    note = ""
    if others:
        note += f"\nOther edits that failed: {', '.join(others)}."
    if matched:
        listed = ", ".join(str(i) for i in matched)
        note += f"\nEdits that matched: {listed} (nothing was written; edits apply all-or-nothing)."
    else:
        note += "\nNo edit matched; nothing was written."
    return note


class NoMatchError(MatchError):
    """A search text occurs nowhere, even ignoring whitespace differences."""


class AmbiguousMatchError(MatchError):
    """A search text occurs in more than one place."""


class AmbiguousIndentationError(MatchError):
    """A one-line search left out its line's indentation, and the replacement may not have."""


class OverlappingEditsError(MatchError):
    """Two edits touch the same characters of the file."""


# --- encoding of the result -----------------------------------------------


class UnencodableTextError(EditError):
    """New text holds a character the file's encoding cannot represent."""

    def __init__(
        self, message: str, *, char: str, line: int, encoding: str, edit_index: int | None
    ) -> None:
        self.char = char
        self.line = line
        self.encoding = encoding
        self.edit_index = edit_index
        super().__init__(message)


class AmbiguousEncodingError(EditError):
    """New non-ASCII text for a file whose bytes read the same in two encodings."""

    def __init__(self, message: str, *, edit_index: int | None) -> None:
        self.edit_index = edit_index
        super().__init__(message)


class ProofError(EditError):
    """The byte proof failed: output differs from the original outside the edits.

    This signals a bug in the engine, never bad input; it exists so that a bug
    refuses the write instead of corrupting a file.
    """
