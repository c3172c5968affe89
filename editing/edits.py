"""The LLM wire contract for edits, and its strict validation.

The LLM replies ``{"edits": [{"search": str, "replace": str}], "summary": str}``.
Validation is strict (wrong types, missing or extra keys are refused) because a
silently-ignored key usually means the model misunderstood the contract, and the
error text is fed back to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from editing.errors import BlankSearchError, EditShapeError, NoEditsError, NoOpEditError

_EDIT_KEYS = frozenset({"search", "replace"})
_REPLY_KEYS = frozenset({"edits", "summary"})


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the one place where ``search`` occurs with ``replace``."""

    search: str
    replace: str


@dataclass(frozen=True, slots=True)
class EditReply:
    """A whole LLM reply: the edits for one file and the model's summary."""

    edits: tuple[Edit, ...]
    summary: str


def parse_edits(obj: object) -> list[Edit]:
    """Validate a decoded JSON list of ``{"search", "replace"}`` objects."""
    if not isinstance(obj, list):
        raise EditShapeError(f'"edits" must be a JSON array, got {_kind(obj)}.')
    return [_parse_edit(item, index) for index, item in enumerate(obj)]


def parse_edit_reply(obj: object) -> EditReply:
    """Validate the full reply envelope ``{"edits": [...], "summary": str}``."""
    mapping = _mapping(obj, what="The reply", keys=_REPLY_KEYS)
    summary = mapping["summary"]
    if not isinstance(summary, str):
        raise EditShapeError(f'"summary" must be a string, got {_kind(summary)}.')
    return EditReply(edits=tuple(parse_edits(mapping["edits"])), summary=summary)


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


def _parse_edit(item: object, index: int) -> Edit:
    mapping = _mapping(item, what=f"Edit {index}", keys=_EDIT_KEYS)
    return Edit(search=_text(mapping, "search", index), replace=_text(mapping, "replace", index))


def _text(mapping: Mapping[str, object], key: str, index: int) -> str:
    value = mapping[key]
    if not isinstance(value, str):
        raise EditShapeError(f'Edit {index}: "{key}" must be a string, got {_kind(value)}.')
    return value


def _mapping(obj: object, *, what: str, keys: frozenset[str]) -> Mapping[str, object]:
    expected = ", ".join(f'"{key}"' for key in sorted(keys))
    if not isinstance(obj, Mapping):
        raise EditShapeError(f"{what} must be a JSON object with keys {expected}, "
                             f"got {_kind(obj)}.")
    present = {key for key in obj if isinstance(key, str)}
    missing = sorted(keys - present)
    extra = sorted(str(key) for key in obj if key not in keys)
    if missing:
        raise EditShapeError(f"{what} is missing key(s) {', '.join(missing)}; "
                             f"expected exactly {expected}.")
    if extra:
        raise EditShapeError(f"{what} has unexpected key(s) {', '.join(extra)}; "
                             f"expected exactly {expected}.")
    return obj


def _kind(obj: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(obj), type(obj).__name__)
