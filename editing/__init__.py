"""Pure edit engine: turn LLM search/replace edits into proven, byte-exact file changes.

No I/O happens here; callers pass bytes in and write ``EditResult.data`` out.

API (stable; the flow code depends on these names):

``Edit(search, replace)``
    The typed edit the engine takes; the LLM's JSON is validated before it gets here.
``apply_edits(original, edits, *, path, configured_encoding=None, default_encoding=None,
max_bytes=None) -> EditResult``
    Apply all edits to an existing file or raise and apply none. Matching ladder:
    exact, then ignoring trailing whitespace, then a uniform indentation shift, then
    the same without blank lines at the search's edges (see :mod:`editing.matching`).
    The byte proof runs on every call.
``create_file(content, *, path, encoding, eol=EolStyle.LF, bom=False) -> EditResult``
    Create a file from its whole content.
``decide_encoding(data, *, configured=None, default_encoding=None) -> DecodedFile``
    The encoding decision; its priority order is documented in :mod:`editing.encoding`.
``EncodingLabel.parse(text)`` / ``str(label)``
    The on-disk encoding as ``EditResult`` and history name it (``cp949``, ``utf-8+bom``).
``build_window(text, spec, *, token_budget) -> Window`` and ``estimate_tokens(text)``
    Line-numbered excerpts of a large file for the prompt.

Every refusal is an :class:`EditError`; see :mod:`editing.errors` for the tree.
"""

from __future__ import annotations

from editing.apply import EditResult, apply_edits, create_file
from editing.edits import Edit
from editing.encoding import DecodedFile, EncodingLabel, EncodingSource, decide_encoding
from editing.eol import EolStyle
from editing.errors import (
    AmbiguousEncodingError,
    AmbiguousIndentationError,
    AmbiguousMatchError,
    BinaryFileError,
    BlankSearchError,
    EditError,
    EncodingConfigError,
    FileRefusedError,
    FileTooLargeError,
    InvalidEditsError,
    MatchError,
    NoEditsError,
    NoMatchError,
    NoOpEditError,
    OverlappingEditsError,
    ProofError,
    UndecodableFileError,
    UnencodableTextError,
)
from editing.matching import MatchKind
from editing.window import Region, Window, build_window, estimate_tokens

__all__ = [
    "AmbiguousEncodingError",
    "AmbiguousIndentationError",
    "AmbiguousMatchError",
    "BinaryFileError",
    "BlankSearchError",
    "DecodedFile",
    "Edit",
    "EditError",
    "EditResult",
    "EncodingConfigError",
    "EncodingLabel",
    "EncodingSource",
    "EolStyle",
    "FileRefusedError",
    "FileTooLargeError",
    "InvalidEditsError",
    "MatchError",
    "MatchKind",
    "NoEditsError",
    "NoMatchError",
    "NoOpEditError",
    "OverlappingEditsError",
    "ProofError",
    "Region",
    "UndecodableFileError",
    "UnencodableTextError",
    "Window",
    "apply_edits",
    "build_window",
    "create_file",
    "decide_encoding",
    "estimate_tokens",
]
