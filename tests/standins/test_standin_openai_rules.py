"""The OpenAI stand-in refuses what the real servers refuse, with their status, text and codes:
OpenAI's rules for reasoning models (strict, the default) and vLLM's rule for chat templates
that need alternating roles (an option)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, get_args

import openai
import pytest

from base.settings import ReasoningEffort
from standins.openai_server import OpenAIStandin

SPEC = {"spec_markdown": "# Spec"}
FORMAT = {"type": "json_schema",
          "json_schema": {"name": "issue_spec", "strict": True, "schema": {"type": "object"}}}
USER = [{"role": "user", "content": "Write a spec"}]


@pytest.fixture
def llm() -> Iterator[OpenAIStandin]:
    with OpenAIStandin() as server:
        server.script("issue_spec", SPEC)
        yield server


@pytest.fixture
def client(llm: OpenAIStandin) -> openai.OpenAI:
    return openai.OpenAI(base_url=llm.base_url, api_key="sk-test", max_retries=0, timeout=5)


def call(client: openai.OpenAI, model: str, messages: list[dict[str, str]] | None = None,
         **params: Any) -> Any:
    return client.chat.completions.create(model=model, messages=messages or USER,  # type: ignore[call-overload]
                                          response_format=FORMAT, **params)


def refusal(client: openai.OpenAI, model: str, **params: Any) -> openai.BadRequestError:
    with pytest.raises(openai.BadRequestError) as raised:
        call(client, model, **params)
    return raised.value


class TestReasoningModelsRefuseSamplingParameters:
    @pytest.mark.parametrize("model", ["o1", "o3-mini", "o4-mini-2025-04-16", "gpt-5",
                                       "gpt-5-mini", "gpt-5-nano-2025-08-07"])
    def test_temperature_zero_is_an_unsupported_value_as_openai_words_it(
        self, model: str, client: openai.OpenAI
    ) -> None:
        error = refusal(client, model, temperature=0)
        assert error.status_code == 400
        assert error.body == {
            "message": "Unsupported value: 'temperature' does not support 0 with this model. "
                       "Only the default (1) value is supported.",
            "type": "invalid_request_error", "param": "temperature", "code": "unsupported_value"}

    def test_the_default_temperature_and_no_temperature_are_accepted(
        self, client: openai.OpenAI
    ) -> None:
        assert call(client, "gpt-5-mini", temperature=1).choices
        assert call(client, "gpt-5-mini").choices

    @pytest.mark.parametrize("model", ["o3", "gpt-5-mini", "gpt-5.2"])
    def test_max_tokens_is_refused_and_max_completion_tokens_taken(
        self, model: str, client: openai.OpenAI
    ) -> None:
        error = refusal(client, model, max_tokens=100)
        assert (error.body["param"], error.body["code"]) == (  # type: ignore[index]
            "max_tokens", "unsupported_parameter")
        assert error.body["message"] == (  # type: ignore[index]
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.")
        assert call(client, model, max_completion_tokens=100).choices

    @pytest.mark.parametrize("param", ["top_p", "presence_penalty", "frequency_penalty"])
    def test_other_sampling_parameters_are_unsupported(
        self, param: str, client: openai.OpenAI
    ) -> None:
        error = refusal(client, "o4-mini", **{param: 0.5})
        assert (error.body["param"], error.body["code"]) == (  # type: ignore[index]
            param, "unsupported_parameter")

    def test_a_model_that_is_not_a_reasoning_model_takes_them_all(
        self, client: openai.OpenAI
    ) -> None:
        assert call(client, "gpt-4o", temperature=0, max_tokens=100, top_p=0.5).choices

    def test_gpt_5_1_takes_a_temperature_when_it_does_not_reason(
        self, client: openai.OpenAI
    ) -> None:
        assert call(client, "gpt-5.1", temperature=0).choices  # its default effort is none
        assert call(client, "gpt-5.1", temperature=0, reasoning_effort="none").choices
        assert refusal(client, "gpt-5.1", temperature=0, reasoning_effort="low").status_code == 400


class TestReasoningEffort:
    @pytest.mark.parametrize("effort", ["minimal", "low", "medium", "high"])
    def test_the_gpt_5_values_are_taken_by_gpt_5_mini(
        self, effort: str, client: openai.OpenAI
    ) -> None:
        assert call(client, "gpt-5-mini", reasoning_effort=effort).choices

    def test_every_value_of_the_sdk_type_is_known(
        self, client: openai.OpenAI
    ) -> None:
        for effort in get_args(ReasoningEffort):
            assert call(client, "gpt-5.5", reasoning_effort=effort).choices

    def test_an_unknown_value_is_invalid(self, client: openai.OpenAI) -> None:
        error = refusal(client, "gpt-5-mini", reasoning_effort="extreme")
        assert error.body["code"] == "invalid_value"  # type: ignore[index]
        assert error.body["message"].startswith(  # type: ignore[index]
            "Invalid value: 'extreme'. Supported values are: 'none', 'minimal'")

    @pytest.mark.parametrize(("model", "effort", "supported"), [
        ("gpt-5-mini", "none", "'minimal', 'low', 'medium', and 'high'"),
        ("o4-mini", "minimal", "'low', 'medium', and 'high'"),
        ("gpt-5.1", "minimal", "'none', 'low', 'medium', and 'high'"),
        ("gpt-5-pro", "low", "'high'"),
    ])
    def test_a_value_the_model_does_not_take_is_unsupported(
        self, model: str, effort: str, supported: str, client: openai.OpenAI
    ) -> None:
        error = refusal(client, model, reasoning_effort=effort)
        assert error.body == {
            "message": f"Unsupported value: 'reasoning_effort' does not support '{effort}' "
                       f"with this model. Supported values are: {supported}.",
            "type": "invalid_request_error", "param": "reasoning_effort",
            "code": "unsupported_value"}

    def test_a_model_that_does_not_reason_refuses_the_parameter(
        self, client: openai.OpenAI
    ) -> None:
        error = refusal(client, "gpt-4o-mini", reasoning_effort="low")
        assert (error.body["param"], error.body["code"]) == (  # type: ignore[index]
            "reasoning_effort", "unsupported_parameter")


class TestALenientGateway:
    def test_strict_false_takes_what_openai_would_refuse(self, llm: OpenAIStandin,
                                                         client: openai.OpenAI) -> None:
        llm.strict = False
        assert call(client, "gpt-5-mini", temperature=0, max_tokens=10,
                    reasoning_effort="extreme").choices


class TestAlternatingRoles:
    """vLLM serving a Mistral or Gemma chat template."""

    @pytest.mark.parametrize("roles", [
        ["system", "user", "user"], ["system", "assistant", "user"], ["user", "user"],
        ["system", "user", "assistant", "assistant", "user"], ["system", "system", "user"],
    ])
    def test_two_turns_of_one_role_in_a_row_are_refused_as_vllm_words_it(
        self, roles: list[str], llm: OpenAIStandin, client: openai.OpenAI
    ) -> None:
        llm.alternating_roles = True
        messages = [{"role": role, "content": f"turn {i}"} for i, role in enumerate(roles)]
        with pytest.raises(openai.BadRequestError) as raised:
            call(client, "mistralai/Mistral-7B-Instruct-v0.3", messages)
        assert raised.value.body == {
            "message": "After the optional system message, conversation roles must alternate "
                       "user/assistant/user/assistant/...",
            "type": "BadRequestError", "param": None, "code": 400}

    @pytest.mark.parametrize("roles", [
        ["system", "user"], ["user"], ["system", "user", "assistant", "user"],
    ])
    def test_alternating_turns_are_answered(
        self, roles: list[str], llm: OpenAIStandin, client: openai.OpenAI
    ) -> None:
        llm.alternating_roles = True
        messages = [{"role": role, "content": f"turn {i}"} for i, role in enumerate(roles)]
        assert call(client, "mistralai/Mistral-7B-Instruct-v0.3", messages).choices

    def test_openai_itself_takes_two_user_turns(self, client: openai.OpenAI) -> None:
        messages = [{"role": r, "content": "x"} for r in ("system", "user", "user")]
        assert call(client, "gpt-4o", messages).choices
