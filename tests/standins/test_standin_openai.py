"""The OpenAI stand-in answers the real SDK with scripted structured outputs and honest usage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
import requests

from standins.faults import Refusal, Status, Truncated
from standins.openai_server import OpenAIStandin

SPEC = {"spec_markdown": "# Spec\n\nDo the thing."}


def schema(name: str) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {"name": name, "strict": True, "schema": {"type": "object"}},
    }


@pytest.fixture
def llm() -> Iterator[OpenAIStandin]:
    with OpenAIStandin() as server:
        yield server


@pytest.fixture
def client(llm: OpenAIStandin) -> openai.OpenAI:
    return openai.OpenAI(base_url=llm.base_url, api_key="sk-test", max_retries=0, timeout=5)


def ask(client: openai.OpenAI, name: str, text: str, model: str = "gpt-4o-mini") -> Any:
    return client.chat.completions.create(  # type: ignore[call-overload]
        model=model, messages=[{"role": "user", "content": text}], response_format=schema(name)
    )


class TestScriptedAnswers:
    def test_the_sdk_gets_a_chat_completion_with_the_scripted_json(
        self, llm: OpenAIStandin, client: openai.OpenAI
    ) -> None:
        llm.script("issue_spec", SPEC)
        completion = ask(client, "issue_spec", "Write a spec")
        assert completion.id.startswith("chatcmpl-")
        assert completion.model == "gpt-4o-mini"
        assert completion.choices[0].finish_reason == "stop"
        assert json.loads(completion.choices[0].message.content) == SPEC
        assert completion.usage.total_tokens == (
            completion.usage.prompt_tokens + completion.usage.completion_tokens
        )

    def test_a_path_specific_script_wins_over_a_generic_one(
        self, llm: OpenAIStandin, client: openai.OpenAI
    ) -> None:
        llm.script("file_edits", {"edits": [], "summary": "generic"})
        llm.script("file_edits", {"edits": [], "summary": "app"}, path="src/app.py")
        summary = json.loads(
            ask(client, "file_edits", "Edit src/app.py").choices[0].message.content
        )
        other = json.loads(ask(client, "file_edits", "Edit src/db.py").choices[0].message.content)
        assert (summary["summary"], other["summary"]) == ("app", "generic")

    def test_counted_scripts_are_used_up_in_order(
        self, llm: OpenAIStandin, client: openai.OpenAI
    ) -> None:
        llm.script("new_file", {"content": "bad"}, times=1)
        llm.script("new_file", lambda request: {"content": request["model"]})
        answers = [ask(client, "new_file", "x").choices[0].message.content for _ in range(3)]
        assert [json.loads(a)["content"] for a in answers] == ["bad", "gpt-4o-mini", "gpt-4o-mini"]

    def test_an_unscripted_schema_is_a_400_naming_it(self, client: openai.OpenAI) -> None:
        with pytest.raises(openai.BadRequestError, match="new_file"):
            ask(client, "new_file", "x")

    def test_a_missing_api_key_is_a_401_in_openai_error_shape(self, llm: OpenAIStandin) -> None:
        response = requests.post(f"{llm.base_url}/chat/completions", json={})
        assert response.status_code == 401
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}


class TestUsage:
    def test_a_repeated_long_prompt_reports_cached_tokens_in_128_steps(
        self, llm: OpenAIStandin, client: openai.OpenAI
    ) -> None:
        llm.script("issue_spec", SPEC)
        prompt = "context " * 1000
        first = ask(client, "issue_spec", prompt + "first question")
        second = ask(client, "issue_spec", prompt + "second question")
        assert first.usage.prompt_tokens_details.cached_tokens == 0
        cached = second.usage.prompt_tokens_details.cached_tokens
        assert cached >= 1024 and cached % 128 == 0
        assert cached <= second.usage.prompt_tokens

    def test_a_short_prompt_is_never_cached(
        self, llm: OpenAIStandin, client: openai.OpenAI
    ) -> None:
        llm.script("issue_spec", SPEC)
        ask(client, "issue_spec", "short")
        assert ask(client, "issue_spec", "short").usage.prompt_tokens_details.cached_tokens == 0

    @pytest.mark.parametrize("model", ["o4-mini", "gpt-5-mini", "gpt-5.1"])
    def test_only_reasoning_models_report_reasoning_tokens(
        self, model: str, llm: OpenAIStandin, client: openai.OpenAI
    ) -> None:
        llm.script("issue_spec", SPEC)
        plain = ask(client, "issue_spec", "x").usage
        reasoning = ask(client, "issue_spec", "x", model=model).usage
        assert plain.completion_tokens_details.reasoning_tokens == 0
        assert 0 < reasoning.completion_tokens_details.reasoning_tokens
        assert reasoning.completion_tokens > reasoning.completion_tokens_details.reasoning_tokens


class TestModelFaults:
    def test_truncated_stops_at_length_with_partial_json(
        self, llm: OpenAIStandin, client: openai.OpenAI
    ) -> None:
        llm.script("issue_spec", SPEC, times=1)
        llm.faults.add("POST /chat/completions", Truncated())
        choice = ask(client, "issue_spec", "x").choices[0]
        assert choice.finish_reason == "length"
        with pytest.raises(json.JSONDecodeError):
            json.loads(choice.message.content)
        assert json.loads(ask(client, "issue_spec", "x").choices[0].message.content) == SPEC

    def test_refusal_sets_the_refusal_and_no_content(
        self, llm: OpenAIStandin, client: openai.OpenAI
    ) -> None:
        llm.faults.add("*", Refusal("No."))
        message = ask(client, "issue_spec", "x").choices[0].message
        assert (message.content, message.refusal) == (None, "No.")

    def test_a_429_carries_retry_after_and_openai_error_code(
        self, llm: OpenAIStandin, client: openai.OpenAI
    ) -> None:
        llm.faults.add("*", Status(429, retry_after=3))
        with pytest.raises(openai.RateLimitError) as raised:
            ask(client, "issue_spec", "x")
        assert raised.value.response.headers["retry-after"] == "3"
        assert raised.value.code == "rate_limit_exceeded"
        assert llm.faults_served == 1
