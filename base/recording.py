"""What clients report after every outside call, and the protocols that store it.

Clients know nothing of the database: they hand an `ApiCall` or `LlmCall` to a recorder.
`db/recorder.py` stores them in the history tables; `NullRecorder` drops them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Resource", "X-RateLimit-NearLimit",
                      "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After")


@dataclass(frozen=True)
class ApiCall:
    """One HTTP attempt (or local git operation) against a git host."""

    method: str
    endpoint: str
    status_code: int | None
    duration_seconds: float
    attempt: int = 1
    rate_limit: dict[str, str] | None = None
    error: str | None = None


@dataclass(frozen=True)
class LlmCall:
    """One LLM call or cache hit; `cost` None means the model is not in the price table."""

    call_type: str
    model: str
    duration_seconds: float
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    cached_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost: Decimal | None = None
    cache_hit: bool = False
    cache_key: str | None = None
    provider_request_id: str | None = None
    error: str | None = None


class ApiRecorder(Protocol):
    def record_api_call(self, call: ApiCall) -> None: ...


class LlmRecorder(Protocol):
    def record_llm_call(self, call: LlmCall) -> None: ...


class NullRecorder:
    """Records nothing: for calls made outside an issue run."""

    def record_api_call(self, call: ApiCall) -> None:
        return None

    def record_llm_call(self, call: LlmCall) -> None:
        return None
