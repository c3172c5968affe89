"""OpenAI-compatible Chat Completions stand-in answering structured-output requests from scripts.

Named ``openai_server`` so it never shadows the ``openai`` SDK. Answers are real
``chat.completion`` objects with usage (prompt caching and reasoning tokens included), so the
SDK parses them and cost accounting can be checked. By default (``strict``) it refuses what
OpenAI refuses (``openai_rules``: sampling parameters and ``max_tokens`` for reasoning
models, unknown or unsupported ``reasoning_effort``); ``alternating_roles`` also refuses what
vLLM refuses under a Mistral or Gemma chat template. ``strict=False`` is a lenient gateway.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from standins.faults import GENERIC_FAULTS, Fault, Refusal, Truncated
from standins.messages import RecordedRequest, Reply, json_reply
from standins.openai_rules import alternation_refusal, openai_refusal
from standins.openai_script import Response, ScriptBook
from standins.openai_usage import (
    CHARS_PER_TOKEN,
    PromptCache,
    estimate_tokens,
    prompt_text,
    reasoning_tokens,
)
from standins.server import StandinServer

_SERVER_ERRORS = {
    429: ("Rate limit reached for requests. Please try again later.", "requests"),
    500: ("The server had an error while processing your request. Sorry about that!", None),
    502: ("Bad gateway.", None),
    503: ("The server is overloaded or not ready yet.", None),
}


def openai_error(
    message: str,
    kind: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
) -> dict[str, object]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


class OpenAIStandin(StandinServer):
    prefix = "/v1"
    supported_faults = (*GENERIC_FAULTS, Truncated, Refusal)

    def __init__(
        self,
        *,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        strict: bool = True,
        alternating_roles: bool = False,
    ) -> None:
        """``api_key`` None accepts any non-empty bearer token, as a local gateway would."""
        super().__init__(host=host, port=port, latency=latency)
        self.api_key = api_key
        self.strict = strict
        self.alternating_roles = alternating_roles
        self.scripts = ScriptBook()
        self.prompt_cache = PromptCache()

    def script(
        self,
        schema_name: str,
        response: Response,
        path: str | None = None,
        times: int | None = None,
    ) -> None:
        """Answer requests for ``schema_name`` (and mentioning ``path``, if given) with this."""
        self.scripts.add(schema_name, response, path, times)

    # -- HTTP ------------------------------------------------------------------------------------

    def error_reply(self, status: int, message: str) -> Reply:
        known, kind = _SERVER_ERRORS.get(status, (message, None))
        kind = kind or ("server_error" if status >= 500 else "invalid_request_error")
        code = "rate_limit_exceeded" if status == 429 else None
        return json_reply(status, openai_error(known, kind, code=code), self._request_id())

    def handle(self, request: RecordedRequest) -> Reply:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        if not token or (self.api_key is not None and token != self.api_key):
            message = "Incorrect API key provided." if token else "You didn't provide an API key."
            code = "invalid_api_key" if token else None
            return json_reply(401, openai_error(message, code=code), self._request_id())
        if (request.method, request.path) != ("POST", "/v1/chat/completions"):
            return json_reply(404, openai_error(f"Invalid URL ({request.method} {request.path})"))
        body, problem = _parse(request.body)
        problem = problem or self._refusal(body)
        if problem is not None:
            return json_reply(400, problem, self._request_id())
        schema = body["response_format"]["json_schema"]["name"]
        answer = self.scripts.answer(schema, prompt_text(body["messages"]), body)
        if answer is None:
            message = f"No response is scripted for schema '{schema}'."
            error = openai_error(message, param="response_format", code="unscripted")
            return json_reply(400, error, self._request_id())
        return self._completion(body, json.dumps(answer), "stop")

    def _refusal(self, body: dict[str, Any]) -> dict[str, object] | None:
        """The 400 body the imitated server gives for this request, if it refuses it."""
        if self.alternating_roles and (problem := alternation_refusal(body["messages"])):
            return problem
        return openai_refusal(body) if self.strict else None

    def fault_reply(self, request: RecordedRequest, fault: Fault) -> Reply:
        if not isinstance(fault, Truncated | Refusal):
            return super().fault_reply(request, fault)
        body, problem = _parse(request.body)
        if problem is not None:
            return json_reply(400, problem, self._request_id())
        if isinstance(fault, Refusal):
            return self._completion(body, None, "stop", refusal=fault.text)
        schema = body["response_format"]["json_schema"]["name"]
        answer = self.scripts.answer(schema, prompt_text(body["messages"]), body, consume=False)
        full = json.dumps(answer if answer is not None else {"partial": "x" * 64})
        return self._completion(body, full[: len(full) // 2], "length")

    def _completion(
        self,
        body: dict[str, Any],
        content: str | None,
        finish_reason: str,
        refusal: str | None = None,
    ) -> Reply:
        model, prompt = str(body["model"]), prompt_text(body["messages"])
        reasoning = reasoning_tokens(model, content or refusal or "")
        completion_tokens = estimate_tokens(content or refusal or "") + reasoning
        cap = body.get("max_completion_tokens")
        if isinstance(cap, int) and content is not None and completion_tokens > cap:
            # openai-python `completion_create_params.py`: max_completion_tokens is "an upper
            # bound for the number of tokens that can be generated for a completion, including
            # visible output tokens and reasoning tokens"; the answer is cut off there
            visible = max(cap - reasoning, 0)
            content, finish_reason = content[: visible * CHARS_PER_TOKEN], "length"
            completion_tokens = cap
        if finish_reason == "length":
            completion_tokens = (
                body.get("max_completion_tokens") or body.get("max_tokens") or (completion_tokens)
            )
        prompt_tokens = estimate_tokens(prompt)
        completion = {
            "id": "chatcmpl-" + secrets.token_urlsafe(21).replace("-", "a").replace("_", "b"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_standin",
            "service_tier": "default",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": refusal,
                        "annotations": [],
                    },
                    "finish_reason": finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {
                    "cached_tokens": self.prompt_cache.cached_tokens(model, prompt),
                    "audio_tokens": 0,
                },
                "completion_tokens_details": {
                    "reasoning_tokens": reasoning,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
        }
        return json_reply(200, completion, self._request_id())

    @staticmethod
    def _request_id() -> dict[str, str]:
        return {"x-request-id": f"req_{secrets.token_hex(16)}", "openai-processing-ms": "1"}


def _parse(raw: bytes) -> tuple[dict[str, Any], dict[str, object] | None]:
    """The request body, or the error OpenAI gives for it."""
    try:
        body = json.loads(raw)
    except ValueError:
        return {}, openai_error("We could not parse the JSON body of your request.")
    if not isinstance(body, dict) or not body.get("model"):
        return {}, openai_error("You must provide a model parameter.", param="model")
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        message = "Missing required parameter: 'messages'."
        return {}, openai_error(message, param="messages", code="missing_required_parameter")
    if body.get("stream"):
        return {}, openai_error("This stand-in does not stream.", param="stream")
    response_format = body.get("response_format") or {}
    name = (response_format.get("json_schema") or {}).get("name")
    if response_format.get("type") != "json_schema" or not isinstance(name, str):
        message = "This stand-in answers only structured outputs (response_format json_schema)."
        return {}, openai_error(message, param="response_format")
    return body, None
