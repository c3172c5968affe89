"""Chat Completions with strict structured outputs, validated, priced, cached and recorded.

Retry ownership: the openai SDK is the only retry layer for LLM transport failures (429 with
or without Retry-After, 5xx, timeouts, dropped connections): `max_retries` with exponential
backoff and jitter. Nothing above it (Prefect task retries included) retries those again.
Output problems (truncated, refused, malformed) are not retried here: they raise
`LlmOutputError` whose `feedback` the caller can send back to the model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, Literal, Protocol, TypeVar, overload

import openai
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ValidationError

from base.errors import InvalidResponse, PermanentError, TransientError
from base.pricing import PriceTable
from base.recording import LlmCall, LlmRecorder
from base.redaction import redact
from base.storable import UnstorableInput, check_json, check_text, map_strings
from integrations.llm.models import request_params
from integrations.llm.schemas import FileEdits, IssueSpec, Kind, NewFile
from integrations.llm.tokens import count_prompt

logger = logging.getLogger(__name__)
MAX_CONTENT_CHARS = 2_000_000
NOT_A_COMPLETION = "LLM server answered with a body that is not a chat completion"


class LlmOutputError(PermanentError):
    """The model answered, but not with a usable result; `feedback` explains it to the model,
    `answer` is what it said (None when it cannot be sent back as it was)."""

    def __init__(self, message: str, *, feedback: str, answer: str | None = None) -> None:
        super().__init__(message)
        self.feedback = feedback
        self.answer = answer


class ResponseCache(Protocol):
    def get(self, key: str) -> dict[str, Any] | None: ...

    def put(self, key: str, *, model: str, call_type: str, response: dict[str, Any],
            prompt_tokens: int | None, completion_tokens: int | None) -> None: ...


class SpendGuard(Protocol):
    """The budget ledger as the client sees it: reserve a call's worst case before it is
    made (or raise `BudgetExceeded`), then book what it cost through the returned function."""

    def reserve(self, worst_case: Decimal) -> Callable[[Decimal], None]: ...


# Our count (cl100k_base) may differ from the provider's; the reservation allows for a quarter
# more prompt tokens so that an answered call never costs more than it reserved.
PROMPT_COUNT_MARGIN = 1.25

Reply = TypeVar("Reply", bound=BaseModel, covariant=True)


@dataclass(frozen=True)
class LlmResult(Generic[Reply]):
    """One answer: `reply` is the validated (and masked) model of its kind."""

    reply: Reply
    cache_key: str
    cache_hit: bool
    cost: Decimal | None
    prompt_tokens: int
    completion_tokens: int

    @property
    def data(self) -> dict[str, Any]:
        """The answer as JSON data: what is cached and what is sent back to the model."""
        return self.reply.model_dump()


def cache_key(*, model: str, kind: Kind, messages: list[dict[str, str]],
              params: dict[str, Any]) -> str:
    """A hash of everything that determines the answer: model, messages, schema, parameters."""
    material = {"model": model, "messages": messages, "schema": kind.value.response_format,
                "params": params}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


class LlmClient:
    def __init__(self, *, sdk: openai.OpenAI, model: str, prices: PriceTable,
                 recorder: LlmRecorder, cache: ResponseCache | None = None,
                 reasoning_effort: str | None = None, completion_allowance: int = 8192,
                 cap_completion: bool = False, guard: SpendGuard | None = None) -> None:
        self.sdk = sdk
        self.model = model
        self.prices = prices
        self.recorder = recorder
        self.cache = cache
        self.completion_allowance = completion_allowance
        self.guard = guard
        self.params = request_params(
            model, reasoning_effort=reasoning_effort,
            max_completion_tokens=completion_allowance if cap_completion else None)

    def worst_case_cost(self, kind: Kind, messages: list[dict[str, str]]) -> Decimal | None:
        """The most one call can cost: its prompt (with the count's margin) and a whole
        completion allowance; None for an unpriced model."""
        prompt = math.ceil(count_prompt(messages, kind.value.response_format)
                           * PROMPT_COUNT_MARGIN)
        return self.prices.cost(self.model, prompt=prompt, cached=0,
                                completion=self.completion_allowance)

    @overload
    def complete(self, kind: Literal[Kind.ISSUE_SPEC], messages: list[dict[str, str]], *,
                 use_cache: bool = True) -> LlmResult[IssueSpec]: ...

    @overload
    def complete(self, kind: Literal[Kind.FILE_EDITS], messages: list[dict[str, str]], *,
                 use_cache: bool = True) -> LlmResult[FileEdits]: ...

    @overload
    def complete(self, kind: Literal[Kind.NEW_FILE], messages: list[dict[str, str]], *,
                 use_cache: bool = True) -> LlmResult[NewFile]: ...

    @overload
    def complete(self, kind: Kind, messages: list[dict[str, str]], *,
                 use_cache: bool = True) -> LlmResult[BaseModel]: ...

    def complete(self, kind: Kind, messages: list[dict[str, str]], *,
                 use_cache: bool = True) -> LlmResult[BaseModel]:
        """One structured call; every outcome (hit, success, failure) is recorded once."""
        key = cache_key(model=self.model, kind=kind, messages=messages, params=self.params)
        if use_cache and self.cache is not None:
            cached = self.cache.get(key)
            if cached is not None:
                self.recorder.record_llm_call(LlmCall(
                    call_type=kind.value.call_type, model=self.model, duration_seconds=0.0,
                    cost=Decimal(0), cache_hit=True, cache_key=key))
                reply = kind.value.model.model_validate(cached)
                return LlmResult(reply, key, True, Decimal(0), 0, 0)
        worst, book = self._reserve(kind, messages)
        started = time.monotonic()
        try:
            response = self._request(kind, messages, key, started)
        except BaseException:
            book(Decimal(0))  # a call that got no answer is not billed
            raise
        record = self._usage_record(kind, key, started, response)
        book(record.cost if record.cost is not None else worst)  # unpriced: count the worst
        try:
            result = LlmResult(_validated(kind, response), key, False, record.cost,
                               record.prompt_tokens or 0, record.completion_tokens or 0)
        except LlmOutputError as exc:
            self.recorder.record_llm_call(_with_error(record, str(exc)))
            raise
        self.recorder.record_llm_call(record)
        if self.cache is not None:
            self.cache.put(key, model=self.model, call_type=kind.value.call_type,
                           response=result.data, prompt_tokens=record.prompt_tokens,
                           completion_tokens=record.completion_tokens)
        return result

    def _reserve(self, kind: Kind, messages: list[dict[str, str]]
                 ) -> tuple[Decimal, Callable[[Decimal], None]]:
        """The call's worst case, reserved with the guard (which may refuse the call), and
        the function that books its actual cost. Unpriced or unguarded: nothing to keep."""
        worst = self.worst_case_cost(kind, messages) if self.guard is not None else None
        if self.guard is None or worst is None:
            return Decimal(0), _book_nothing
        return worst, self.guard.reserve(worst)

    def _request(self, kind: Kind, messages: list[dict[str, str]], key: str,
                 started: float) -> ChatCompletion:
        """The provider's completion; a failure is recorded and raised as our error."""
        try:
            response = self.sdk.chat.completions.create(  # type: ignore[call-overload]
                model=self.model, messages=messages, response_format=kind.value.response_format,
                **self.params)
        except openai.OpenAIError as exc:
            error = _map_sdk_error(exc)
            self._record_failure(kind, key, started, str(error), _request_id(exc))
            raise error from None  # the SDK's error, chained, would print its text in tracebacks
        except (json.JSONDecodeError, UnicodeDecodeError):  # the SDK lets these through
            self._record_failure(kind, key, started, NOT_A_COMPLETION, None)
            raise InvalidResponse(NOT_A_COMPLETION) from None
        if not isinstance(response, ChatCompletion) or getattr(response, "choices", None) is None:
            self._record_failure(kind, key, started, NOT_A_COMPLETION,
                                 getattr(response, "_request_id", None))
            raise InvalidResponse(NOT_A_COMPLETION)
        return response

    def _usage_record(self, kind: Kind, key: str, started: float, response: Any) -> LlmCall:
        usage = response.usage
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion = int(getattr(usage, "completion_tokens", 0) or 0)
        details = getattr(usage, "prompt_tokens_details", None)
        cached = int(getattr(details, "cached_tokens", 0) or 0)
        reasoning_details = getattr(usage, "completion_tokens_details", None)
        reasoning = int(getattr(reasoning_details, "reasoning_tokens", 0) or 0)
        model = str(response.model or self.model)
        cost = self.prices.cost(model, prompt=prompt, cached=cached, completion=completion)
        if cost is None:
            logger.warning("model %s is not in the price table (as of %s): cost left unpriced",
                           model, self.prices.as_of)
        return LlmCall(
            call_type=kind.value.call_type, model=model,
            duration_seconds=time.monotonic() - started, prompt_tokens=prompt,
            completion_tokens=completion, total_tokens=prompt + completion, cached_tokens=cached,
            reasoning_tokens=reasoning, cost=cost, cache_key=key,
            provider_request_id=getattr(response, "_request_id", None) or response.id)

    def _record_failure(self, kind: Kind, key: str, started: float, error: str,
                        request_id: str | None) -> None:
        self.recorder.record_llm_call(LlmCall(
            call_type=kind.value.call_type, model=self.model,
            duration_seconds=time.monotonic() - started, cache_key=key,
            provider_request_id=request_id, error=error))


def _book_nothing(cost: Decimal) -> None:
    """Nothing was reserved, so there is nothing to book."""


def _with_error(record: LlmCall, error: str) -> LlmCall:
    return LlmCall(**{**record.__dict__, "error": error})


def _request_id(exc: openai.OpenAIError) -> str | None:
    return getattr(exc, "request_id", None)


def _map_sdk_error(exc: openai.OpenAIError) -> Exception:
    """The SDK's errors, after its own retries, as our hierarchy; the SDK's text may echo a
    partial API key, so only the status and the error type are kept."""
    if isinstance(exc, openai.APITimeoutError):
        return TransientError("LLM request timed out after the SDK's retries")
    if isinstance(exc, openai.APIConnectionError):
        return TransientError("LLM server unreachable after the SDK's retries")
    if isinstance(exc, openai.APIStatusError):
        code = exc.status_code
        kind = TransientError if code == 429 or code >= 500 else PermanentError
        body = exc.body if isinstance(exc.body, dict) else {}
        detail = str(body.get("code") or body.get("type") or "")
        return kind(f"LLM server answered {code}{' (' + detail + ')' if detail else ''}")
    if isinstance(exc, openai.APIResponseValidationError):
        return InvalidResponse(NOT_A_COMPLETION)
    return InvalidResponse(f"LLM call failed: {type(exc).__name__}")


def _validated(kind: Kind, response: Any) -> BaseModel:
    name = kind.value.schema_name
    if not getattr(response, "choices", None):
        raise LlmOutputError(f"{name}: the response has no choices",
                             feedback="Answer with exactly one JSON object.")
    choice = response.choices[0]
    message = choice.message
    if getattr(message, "refusal", None):
        raise LlmOutputError(f"{name}: the model refused: {message.refusal[:200]}",
                             feedback="The request is a routine code edit; answer it.",
                             answer=_sendable(message.refusal))
    content = message.content or ""
    if choice.finish_reason == "length":
        raise LlmOutputError(f"{name}: the output was truncated (finish_reason=length)",
                             feedback="Your answer was cut off. Answer again, more briefly.",
                             answer=_sendable(content))
    if len(content) > MAX_CONTENT_CHARS:
        raise LlmOutputError(f"{name}: the output is {len(content)} characters, over the limit",
                             feedback="Your answer was far too long. Answer more briefly.")
    try:
        data = kind.value.model.model_validate_json(content).model_dump()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}"
                             for e in exc.errors()[:5])
        raise LlmOutputError(
            f"{name}: the output does not match the schema: {problems}",
            feedback=f"Your answer did not match the JSON schema {name}: {problems}.",
            answer=_sendable(content)) from None
    try:
        check_json(data, "the answer")
    except UnstorableInput as exc:  # it could be neither stored nor committed as text
        raise LlmOutputError(f"{name}: {exc}", feedback=(
            f"Your answer was unusable: {exc}. Answer again without NUL characters or "
            "unpaired surrogate escapes."), answer=_sendable(content)) from None
    # masked: a model that repeats a credential (a prompt injection asking it to) cannot
    # carry it into a commit, a PR or the history
    return kind.value.model.model_validate(map_strings(data, redact))


def _sendable(text: str | None) -> str | None:
    """What the model said, fit to be sent back to it as its previous turn: masked, and None
    when empty, over the size limit or not valid text (the retry then says so instead)."""
    if not text or len(text) > MAX_CONTENT_CHARS:
        return None
    try:
        check_text(text, "the answer")
    except UnstorableInput:
        return None
    return redact(text)
