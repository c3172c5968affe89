"""Deterministic token usage with OpenAI's prompt-caching rules, so cost code can be tested."""

from __future__ import annotations

import math
import threading
from collections import deque
from typing import Any

from standins.openai_rules import is_reasoning_model

CHARS_PER_TOKEN = 4
CACHE_MINIMUM = 1024
CACHE_STEP = 128
REMEMBERED_PROMPTS = 256


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def prompt_text(messages: list[dict[str, Any]]) -> str:
    """Every message's role and text, in order; content may be a string or a list of parts."""
    pieces = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        pieces.append(f"{message.get('role', '')}\n{content or ''}\n")
    return "".join(pieces)


def reasoning_tokens(model: str, completion: str) -> int:
    """Only reasoning models reason; the count is made up but stable for a given answer."""
    return 64 + 8 * (len(completion) % 97) if is_reasoning_model(model) else 0


class PromptCache:
    """Remembers recent prompts per model; a new prompt's cached tokens are its longest shared
    prefix with one of them, in 128-token steps, once the prompt is 1024 tokens or more."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, deque[str]] = {}

    def cached_tokens(self, model: str, prompt: str) -> int:
        with self._lock:
            seen = self._seen.setdefault(model, deque(maxlen=REMEMBERED_PROMPTS))
            shared = max((_common_prefix(prompt, earlier) for earlier in seen), default=0)
            seen.append(prompt)
        if estimate_tokens(prompt) < CACHE_MINIMUM:
            return 0
        tokens = shared // CHARS_PER_TOKEN // CACHE_STEP * CACHE_STEP
        return tokens if tokens >= CACHE_MINIMUM else 0


def _common_prefix(a: str, b: str) -> int:
    limit = min(len(a), len(b))
    if a[:limit] == b[:limit]:
        return limit
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low
