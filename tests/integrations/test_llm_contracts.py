"""The LLM client speaks the servers' contracts, checked against the strict stand-in over real
HTTP and real PostgreSQL: parameters per model family, `LLM_REASONING_EFFORT`, alternating
roles, and retries that show the model its own answer after a stable, cacheable prefix."""

from __future__ import annotations

from typing import Any, get_args

import openai
import pytest
from openai.types.shared.reasoning_effort import ReasoningEffort as SdkReasoningEffort
from pydantic import SecretStr

from base.errors import ConfigError
from base.pricing import PriceTable
from base.settings import ReasoningEffort, Settings, load_settings
from db.recorder import HistoryRecorder
from integrations.llm import prompts
from integrations.llm.client import LlmClient, LlmOutputError
from integrations.llm.models import is_reasoning_model
from integrations.llm.schemas import Kind
from standins.openai_server import OpenAIStandin
from tasks.wiring import build_llm_client
from tests.integrations.conftest import llm_rows

SPEC: dict[str, Any] = {"spec_markdown": "# MAT-1"}
EDITS: dict[str, Any] = {"edits": [{"search": "int x;", "replace": "int x = 1;"}],
                         "summary": "init x"}
SAMPLING = ("temperature", "top_p", "presence_penalty", "frequency_penalty", "max_tokens")
REASONING = ["o1", "o3", "o3-mini-2025-01-31", "o4-mini", "gpt-5", "gpt-5-mini",
             "gpt-5-nano-2025-08-07", "gpt-5.1", "gpt-5.2-pro", "openai/gpt-5-mini"]
NOT_REASONING = ["gpt-4o", "gpt-4o-mini-2024-07-18", "gpt-4.1-mini", "llama-3-70b",
                 "mistralai/Mistral-7B-Instruct-v0.3", "gpt-50", "omni-moderation"]


def client_for(llm: OpenAIStandin, recorder: HistoryRecorder, model: str,
               effort: str | None = None) -> LlmClient:
    sdk = openai.OpenAI(base_url=llm.base_url, api_key="sk-test", max_retries=0, timeout=5)
    return LlmClient(sdk=sdk, model=model, prices=PriceTable.bundled(), recorder=recorder,
                     reasoning_effort=effort)


def spec_call(client: LlmClient) -> str:
    """One spec call; its cache key."""
    return client.complete(Kind.ISSUE_SPEC, prompts.spec_messages(
        issue_key="MAT-1", summary="New alloy", description="Add Ti-6Al-4V")).cache_key


def edit_messages(feedback: list[prompts.Turn], excerpt: str = "int x;") -> list[dict[str, str]]:
    return prompts.edit_messages(path="src/MaterialDB.cpp", instructions="Add it.",
                                 excerpt=excerpt, excerpt_note="Whole file.", spec="Init x.",
                                 feedback=feedback)


class TestWhichModelsReason:
    @pytest.mark.parametrize("model", REASONING)
    def test_the_o_series_and_gpt_5_families_are_reasoning_models(self, model: str) -> None:
        assert is_reasoning_model(model)

    @pytest.mark.parametrize("model", NOT_REASONING)
    def test_other_models_are_not(self, model: str) -> None:
        assert not is_reasoning_model(model)


class TestParametersPerModel:
    @pytest.mark.parametrize("model", [m for m in REASONING if "/" not in m])
    def test_a_reasoning_model_is_sent_no_sampling_parameter_and_the_strict_server_answers(
        self, model: str, llm: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        llm.script("issue_spec", SPEC)
        spec_call(client_for(llm, recorder, model))
        [request] = llm.requests
        assert not set(SAMPLING) & set(request.json())
        assert "reasoning_effort" not in request.json()  # unset: the provider's default
        [row] = llm_rows(recorder)
        assert row.success and row.reasoning_tokens > 0

    @pytest.mark.parametrize("model", ["gpt-4o", "gpt-4.1-mini", "llama-3-70b"])
    def test_any_other_model_is_sent_temperature_zero_and_no_effort(
        self, model: str, llm: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        llm.script("issue_spec", SPEC)
        spec_call(client_for(llm, recorder, model, effort="high"))
        [request] = llm.requests
        assert request.json()["temperature"] == 0
        assert "reasoning_effort" not in request.json() and "max_tokens" not in request.json()

    @pytest.mark.parametrize(("model", "effort"), [
        ("gpt-5-mini", "minimal"), ("o4-mini", "high"), ("gpt-5.1", "none")])
    def test_the_configured_effort_goes_to_a_reasoning_model_only(
        self, model: str, effort: str, llm: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        llm.script("issue_spec", SPEC)
        spec_call(client_for(llm, recorder, model, effort=effort))
        assert llm.requests[0].json()["reasoning_effort"] == effort
        assert llm_rows(recorder)[0].success

    def test_a_chat_variant_of_the_family_is_sent_no_effort(
        self, llm: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        llm.script("issue_spec", SPEC)
        spec_call(client_for(llm, recorder, "gpt-5-chat-latest", effort="low"))
        assert not {"reasoning_effort", *SAMPLING} & set(llm.requests[0].json())

    def test_the_effort_is_part_of_the_cache_key(
        self, llm: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        llm.script("issue_spec", SPEC)
        keys = {spec_call(client_for(llm, recorder, "gpt-5-mini", effort))
                for effort in (None, "low", "high")}
        assert len(keys) == 3

    def test_the_factory_passes_the_setting_on(
        self, llm: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        llm.script("issue_spec", SPEC)
        settings = Settings(_env_file=None, openai_api_key=SecretStr("sk-test"),  # type: ignore[call-arg]
                            openai_base_url=llm.base_url, llm_model="gpt-5-mini",
                            llm_max_retries=0, llm_reasoning_effort="low")
        spec_call(build_llm_client(settings, recorder, None))
        assert llm.requests[0].json()["reasoning_effort"] == "low"
        [row] = llm_rows(recorder)
        assert row.model == "gpt-5-mini" and row.estimated_cost is not None


class TestTheReasoningEffortSetting:
    def test_its_values_are_those_of_the_locked_sdk(self) -> None:
        assert get_args(ReasoningEffort) == get_args(get_args(SdkReasoningEffort)[0])

    @pytest.mark.parametrize(("value", "expected"), [("low", "low"), ("minimal", "minimal"),
                                                     ("", None), ("  ", None)])
    def test_a_known_value_or_nothing_is_accepted(
        self, value: str, expected: str | None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("LLM_REASONING_EFFORT", value)
        assert load_settings().llm_reasoning_effort == expected

    @pytest.mark.parametrize("value", ["extreme", "LOW", "0"])
    def test_another_value_stops_the_start_with_one_line(
        self, value: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("LLM_REASONING_EFFORT", value)
        with pytest.raises(ConfigError, match="LLM_REASONING_EFFORT: Input should be 'none', "
                                              "'minimal', 'low',") as refused:
            load_settings()
        assert "\n" not in str(refused.value)


class TestTheEditsSchema:
    def test_it_is_built_from_the_model_as_the_servers_have_always_been_sent_it(self) -> None:
        pair = {"type": "object", "properties": {"search": {"type": "string"},
                                                 "replace": {"type": "string"}},
                "required": ["search", "replace"], "additionalProperties": False}
        assert Kind.FILE_EDITS.value.response_format == {"type": "json_schema", "json_schema": {
            "name": "file_edits", "strict": True, "schema": {
                "type": "object",
                "properties": {"edits": {"type": "array", "items": pair},
                               "summary": {"type": "string"}},
                "required": ["edits", "summary"], "additionalProperties": False}}}


class TestRolesAlternate:
    """The prompts pass vLLM's check for Mistral and Gemma templates."""

    @pytest.mark.parametrize("kind", list(Kind), ids=lambda k: k.value.schema_name)
    def test_a_first_attempt_is_system_then_one_user_message(
        self, kind: Kind, llm: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        llm.alternating_roles = True
        answers: dict[Kind, dict[str, Any]] = {
            Kind.ISSUE_SPEC: SPEC, Kind.FILE_EDITS: EDITS, Kind.NEW_FILE: {"content": "x"}}
        llm.script(kind.value.schema_name, answers[kind])
        messages = {
            Kind.ISSUE_SPEC: prompts.spec_messages(issue_key="K-1", summary="s", description="d"),
            Kind.FILE_EDITS: edit_messages([]),
            Kind.NEW_FILE: prompts.new_file_messages(path="src/New.h", instructions="i",
                                                     spec="s", feedback=[]),
        }[kind]
        client_for(llm, recorder, "mistral-small").complete(kind, messages)
        assert [m["role"] for m in llm.requests[0].json()["messages"]] == ["system", "user"]

    def test_retries_alternate_and_end_with_the_user(
        self, llm: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        llm.alternating_roles = True
        llm.script("file_edits", EDITS)
        feedback = [prompts.Turn('{"edits": []}', "no edits"), prompts.Turn(None, "cut off")]
        client_for(llm, recorder, "mistral-small").complete(Kind.FILE_EDITS,
                                                             edit_messages(feedback))
        sent = llm.requests[0].json()["messages"]
        assert [m["role"] for m in sent] == ["system", "user", "assistant", "user", "assistant",
                                             "user"]
        assert sent[2]["content"] == '{"edits": []}' and sent[4]["content"] == prompts.NO_ANSWER
        assert sent[3]["content"] == "Your previous edits failed: no edits"


class TestARetryShowsTheModelItsAnswer:
    def test_a_schema_mismatch_carries_the_answer_to_send_back(
        self, llm: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        llm.script("file_edits", {"edits": "all of them", "summary": "s"})
        with pytest.raises(LlmOutputError) as raised:
            client_for(llm, recorder, "gpt-5-mini").complete(Kind.FILE_EDITS, edit_messages([]))
        assert raised.value.answer == '{"edits": "all of them", "summary": "s"}'

    def test_the_retry_keeps_the_first_attempts_prefix_so_its_prompt_is_cached(
        self, llm: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        llm.script("file_edits", EDITS)
        client = client_for(llm, recorder, "gpt-5-mini")
        excerpt = "\n".join(f"{n:5}  int table_{n} = {n};" for n in range(1, 800))
        first = edit_messages([], excerpt)
        retry = edit_messages([prompts.Turn('{"edits": [], "summary": ""}', "no edits")],
                              excerpt)
        assert retry[:2] == first
        client.complete(Kind.FILE_EDITS, first)
        client.complete(Kind.FILE_EDITS, retry, use_cache=False)
        cold, warm = llm_rows(recorder)
        assert cold.cached_tokens == 0
        assert warm.cached_tokens > cold.prompt_tokens - 128  # the whole first prompt, in steps
        prices = PriceTable.bundled()
        tokens = {"prompt": warm.prompt_tokens, "completion": warm.completion_tokens}
        assert warm.estimated_cost == prices.cost("gpt-5-mini", cached=warm.cached_tokens,
                                                  **tokens)
        assert warm.estimated_cost < prices.cost("gpt-5-mini", cached=0, **tokens)
