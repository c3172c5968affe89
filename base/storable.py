"""What PostgreSQL can store: the one rule for text and JSON that comes from outside.

PostgreSQL refuses NUL in `text` and `\\u0000` in `jsonb`, and psycopg2 cannot encode a lone
surrogate (which `json.loads` happily makes from `"\\ud800"`). Input is checked against this
rule at the edge, so a bad value is refused with its place named instead of failing an
INSERT later, after work (or money) was spent.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

MAX_JSON_DEPTH = 64


class UnstorableInput(ValueError):
    """A value that cannot be stored as it is; the message names where it is."""


def check_text(value: str, where: str = "text") -> str:
    """`value` unchanged, or UnstorableInput when it holds NUL or a lone surrogate."""
    if "\x00" in value:
        raise UnstorableInput(f"{where} holds a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UnstorableInput(f"{where} holds an unpaired surrogate") from None
    return value


def check_json(value: Any, where: str = "body", max_depth: int = MAX_JSON_DEPTH) -> None:
    """Every key and string of a decoded JSON value is storable, every number finite (`jsonb`
    has no NaN or Infinity, which `json.loads` reads from `NaN` or `1e400`), and it nests at
    most `max_depth` levels. Iterative, so a hostile depth cannot exhaust the stack."""
    stack: list[tuple[Any, str, int]] = [(value, where, 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            check_text(item, path)
            continue
        if isinstance(item, float) and not math.isfinite(item):
            raise UnstorableInput(f"{path} is not a finite number")
        if not isinstance(item, dict | list):
            continue
        if depth > max_depth:
            raise UnstorableInput(f"{where} nests deeper than {max_depth} levels")
        if isinstance(item, dict):
            for key, child in item.items():
                check_text(key, f"{path}: a key")
                stack.append((child, f"{path}.{key[:40]}", depth + 1))
        else:
            stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))


REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def scrub_text(value: str) -> str:
    """`value` with NUL and unpaired surrogates replaced by U+FFFD, for history that must be
    written whatever it holds (an error text, a provider's answer)."""
    return _UNSTORABLE.sub(REPLACEMENT, value)


def json_for_postgres(value: Any) -> str:
    """The JSON text of `value` that `jsonb` accepts: every string and key scrubbed."""
    return json.dumps(map_strings(value, scrub_text), ensure_ascii=False, default=str)


def map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """A copy of a JSON-like value with `change` applied to every string and key."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {change(str(k)): map_strings(v, change) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [map_strings(v, change) for v in value]
    return value
