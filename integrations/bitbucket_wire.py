"""Bitbucket's wire format: URL segments, JSON answers and fields, and its error JSON.

Errors follow the OpenAPI definition's components/schemas/error:
`{"type": "error", "error": {"message": ..., "detail": ..., "data": {...}}}`; the message
and the detail both go into ours, since the detail is often the part that says why.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from base.errors import (
    Conflict,
    IntegrationError,
    InvalidResponse,
    NotFound,
    PermanentError,
)

MAX_ERROR_CHARS = 500


def quoted(value: str) -> str:
    """A string literal of Bitbucket's query language."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def segment(text: str) -> str:
    """A ref or path for the URL: `#`, `?` and `%` in a name must not end or alter the path."""
    return quote(text, safe="/")


def error_message(body: bytes, status: int) -> str:
    """`error.message`, then `error.detail` when there is one; else the bare status."""
    try:
        error = json.loads(body)["error"]
        text = str(error["message"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {status}"
    detail = error.get("detail") if isinstance(error, dict) else None
    return (f"{text}: {detail}" if detail else text)[:MAX_ERROR_CHARS]


def raise_for_status(status: int, body: bytes, what: str, ok: tuple[int, ...]) -> None:
    if status in ok:
        return
    message = f"Bitbucket {what} answered {status}: {error_message(body, status)}"
    error: type[IntegrationError] = {404: NotFound, 409: Conflict}.get(status, PermanentError)
    raise error(message)


def json_object(status: int, body: bytes, what: str,
                ok: tuple[int, ...] = (200,)) -> dict[str, Any]:
    """The JSON object of an answer whose status is in `ok`; the error otherwise."""
    raise_for_status(status, body, what, ok)
    try:
        data = json.loads(body)
    except ValueError:
        raise InvalidResponse(f"Bitbucket {what} answered non-JSON") from None
    if not isinstance(data, dict):
        raise InvalidResponse(f"Bitbucket {what} answered a non-object")
    return data


def field(data: Any, *keys: str) -> str:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            raise InvalidResponse(f"Bitbucket response lacks {'.'.join(keys)}")
        data = data[key]
    if not isinstance(data, str | int):
        raise InvalidResponse(f"Bitbucket response has a non-scalar {'.'.join(keys)}")
    return str(data)
