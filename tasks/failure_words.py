"""Why a file was not changed, in words for the people reading the run, not for the model.

The engine's messages are written for the model's next attempt ("copy the search text
verbatim"); a team lead needs to know what went wrong and whether to act.
"""

from __future__ import annotations

from base.errors import IntegrationError, TransientError
from editing.errors import (
    AmbiguousEncodingError,
    AmbiguousIndentationError,
    AmbiguousMatchError,
    BinaryFileError,
    EditError,
    EncodingConfigError,
    FileTooLargeError,
    InvalidEditsError,
    NoMatchError,
    OverlappingEditsError,
    ProofError,
    UndecodableFileError,
    UnencodableTextError,
)
from integrations.llm.client import LlmOutputError

_WORDS: tuple[tuple[type[BaseException], str], ...] = (
    (NoMatchError, "the model's change did not match the file's current text"),
    (AmbiguousMatchError, "the model's change matched more than one place in the file"),
    (AmbiguousIndentationError, "the model's change left out its line's indentation, and how "
                                "to indent its new lines was unclear"),
    (OverlappingEditsError, "two of the model's changes touched the same text"),
    (InvalidEditsError, "the model's answer was not a usable list of changes"),
    (UnencodableTextError, "the new text holds a character the file's encoding cannot store"),
    (AmbiguousEncodingError, "the file's encoding is ambiguous: set `encoding:` for it in "
                             "TARGETS_FILE"),
    (EncodingConfigError, "the configured encoding cannot be used for this file"),
    (UndecodableFileError, "the file's encoding could not be recognised: set `encoding:` for "
                           "it in TARGETS_FILE"),
    (FileTooLargeError, "the file is larger than its max_bytes in TARGETS_FILE"),
    (BinaryFileError, "the file is binary, not text"),
    (ProofError, "the engine could not prove the rest of the file stayed byte for byte the "
                 "same, so it wrote nothing"),
    (LlmOutputError, "the model's answers were unusable (cut off, refused or malformed)"),
    (TransientError, "the LLM service was unavailable, also after retries"),
    (IntegrationError, "the LLM service refused the request"),
    (EditError, "the change could not be applied safely"),
)


def for_people(error: BaseException, attempts: int) -> str:
    """One sentence: what went wrong, after how many answers of the model."""
    words = next((text for kind, text in _WORDS if isinstance(error, kind)),
                 "the file could not be changed")
    return f"{words} (after {attempts} attempt(s))" if attempts else words
