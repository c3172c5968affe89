"""The LLM client against the OpenAI-compatible stand-in, over real HTTP and real PostgreSQL."""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import openai
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, select, text

from base.errors import InvalidResponse, PermanentError, TransientError
from base.pricing import PriceTable
from base.recording import LlmRecorder
from base.settings import Settings
from db.llm_cache import PostgresResponseCache
from db.models import LlmResponseCache
from db.recorder import HistoryRecorder
from integrations.llm import prompts
from integrations.llm.client import LlmClient, LlmOutputError
from integrations.llm.schemas import EditPair, FileEdits, Kind
from standins.faults import (
    Delay,
    Malformed,
    Oversized,
    Refusal,
    Reset,
    Status,
    Truncated,
)
from standins.openai_server import OpenAIStandin
from standins.openai_usage import estimate_tokens, prompt_text
from tasks.wiring import build_llm_client
from tests.integrations.conftest import llm_rows

SPEC = {"spec_markdown": "# MAT-1\n\nAdd **Ti-6Al-4V** to the material table."}
EDITS = {"edits": [{"search": "int x;", "replace": "int x = 1;"}], "summary": "init x"}
NEW_FILE = {"content": "// \uc0c8 \ud30c\uc77c\n"}
ANSWERS: dict[Kind, dict[str, Any]] = {
    Kind.ISSUE_SPEC: SPEC, Kind.FILE_EDITS: EDITS, Kind.NEW_FILE: NEW_FILE}
CALL_TYPES = {Kind.ISSUE_SPEC: "spec_conversion", Kind.FILE_EDITS: "code_diff",
              Kind.NEW_FILE: "new_file"}
GPT_4O = (Decimal("2.50"), Decimal("1.25"), Decimal("10.00"))  # input, cached, output per 1M


def messages_for(kind: Kind, text: str = "Add Ti-6Al-4V") -> list[dict[str, str]]:
    if kind is Kind.ISSUE_SPEC:
        return prompts.spec_messages(issue_key="MAT-1", summary="New alloy", description=text)
    if kind is Kind.FILE_EDITS:
        return prompts.edit_messages(path="src/MaterialDB.cpp", instructions="Add it.",
                                     excerpt="int x;", excerpt_note="Whole file.", spec=text,
                                     feedback=[])
    return prompts.new_file_messages(path="src/Alloys.h", instructions="Create it.", spec=text,
                                     feedback=[])


def client_for(llm: OpenAIStandin, recorder: LlmRecorder, *, model: str = "gpt-4o",
               cache: PostgresResponseCache | None = None, max_retries: int = 0,
               timeout: float = 5.0, api_key: str = "sk-test") -> LlmClient:
    sdk = openai.OpenAI(base_url=llm.base_url, api_key=api_key, max_retries=max_retries,
                        timeout=timeout)
    return LlmClient(sdk=sdk, model=model, prices=PriceTable.bundled(), recorder=recorder,
                     cache=cache)


def completion(content: str | None, finish_reason: str = "stop") -> dict[str, Any]:
    """A chat completion body as a server would send it, for content the scripts cannot make."""
    return {
        "id": "chatcmpl-handmade", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "finish_reason": finish_reason, "logprobs": None,
                     "message": {"role": "assistant", "content": content, "refusal": None}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def expected_cost(prompt: int, cached: int, completion_tokens: int,
                  prices: tuple[Decimal, Decimal, Decimal] = GPT_4O) -> Decimal:
    total = (prompt - cached) * prices[0] + cached * prices[1] + completion_tokens * prices[2]
    return (total / Decimal(1_000_000)).quantize(Decimal("0.000001"))


@pytest.fixture
def ask() -> str:
    """Request text no other test sends."""
    return f"Add Ti-6Al-4V ({uuid.uuid4().hex})"


@pytest.fixture
def scripted(llm: OpenAIStandin) -> OpenAIStandin:
    for kind, answer in ANSWERS.items():
        llm.script(kind.value.schema_name, answer)
    return llm


class TestLlmStructuredOutputs:
    @pytest.mark.parametrize("kind", list(Kind), ids=lambda k: k.value.schema_name)
    def test_each_kind_asks_for_a_strict_json_schema_named_for_it_and_is_recorded(
        self, kind: Kind, scripted: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        result = client_for(scripted, recorder).complete(kind, messages_for(kind))

        [request] = scripted.requests
        response_format = request.json()["response_format"]
        assert response_format["type"] == "json_schema"
        assert response_format["json_schema"]["name"] == kind.value.schema_name
        assert response_format["json_schema"]["strict"] is True
        assert response_format["json_schema"]["schema"]["additionalProperties"] is False
        assert request.json()["model"] == "gpt-4o"
        assert result.data == ANSWERS[kind] and result.cache_hit is False
        [row] = llm_rows(recorder)
        assert (row.call_type, row.model, row.success, row.error_message) == (
            CALL_TYPES[kind], "gpt-4o", True, None)
        assert row.cache_key == result.cache_key and row.cache_hit is False
        assert row.provider_request_id.startswith("req_")
        assert row.duration_seconds is not None and row.duration_seconds >= 0
        assert recorder.failures == []


# (kind, the scripted answer, words the error must contain)
SCHEMA_MISMATCHES = [
    (Kind.ISSUE_SPEC, {}, "spec_markdown: Field required"),
    (Kind.ISSUE_SPEC, {"spec_markdown": 7}, "spec_markdown: Input should be a valid string"),
    (Kind.ISSUE_SPEC, {"spec_markdown": "x", "notes": "y"}, "notes: Extra inputs"),
    (Kind.FILE_EDITS, {"edits": [{"search": "a"}], "summary": "s"}, "edits.0.replace"),
    (Kind.FILE_EDITS, {"edits": "all of them", "summary": "s"}, "edits: Input should be"),
    (Kind.FILE_EDITS, {"edits": ["a"], "summary": "s"}, "edits.0: Input should be an object"),
    (Kind.FILE_EDITS, {"edits": [{"search": "a", "replace": None}], "summary": "s"},
     "edits.0.replace: Input should be a valid string"),
    (Kind.FILE_EDITS, {"edits": [{"search": "a", "replace": "b", "why": "c"}], "summary": "s"},
     "edits.0.why: Extra inputs"),
    (Kind.FILE_EDITS, {"edits": []}, "summary: Field required"),
    (Kind.FILE_EDITS, {"edits": [], "summary": 1}, "summary: Input should be a valid string"),
    (Kind.NEW_FILE, {"body": "x"}, "content: Field required"),
]


class TestLlmOutputValidation:
    @pytest.mark.parametrize(("kind", "answer", "problem"), SCHEMA_MISMATCHES)
    def test_an_answer_off_the_schema_is_an_output_error_naming_the_problem(
        self, kind: Kind, answer: dict[str, Any], problem: str, llm: OpenAIStandin,
        recorder: HistoryRecorder
    ) -> None:
        llm.script(kind.value.schema_name, answer)
        with pytest.raises(LlmOutputError) as raised:
            client_for(llm, recorder).complete(kind, messages_for(kind))
        assert problem in str(raised.value) and problem in raised.value.feedback
        assert kind.value.schema_name in raised.value.feedback
        [row] = llm_rows(recorder)
        assert row.success is False and problem in row.error_message
        assert row.prompt_tokens > 0 and row.estimated_cost > 0  # the tokens were still spent

    @pytest.mark.parametrize("content", ['{"spec_markdown": "cut', "not json at all", ""])
    def test_content_that_is_not_json_is_an_output_error(
        self, content: str, llm: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        llm.faults.add("*", Status(200, body=completion(content)))
        with pytest.raises(LlmOutputError, match="does not match the schema: body: Invalid JSON"):
            client_for(llm, recorder).complete(Kind.ISSUE_SPEC, messages_for(Kind.ISSUE_SPEC))
        [row] = llm_rows(recorder)
        assert "Invalid JSON" in row.error_message
        assert (row.prompt_tokens, row.completion_tokens) == (10, 5)

    def test_a_truncated_answer_is_an_output_error_with_feedback_to_answer_briefly(
        self, scripted: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        scripted.faults.add("*", Truncated())
        with pytest.raises(LlmOutputError, match="finish_reason=length") as raised:
            client_for(scripted, recorder).complete(Kind.FILE_EDITS, messages_for(Kind.FILE_EDITS))
        assert "cut off" in raised.value.feedback
        [row] = llm_rows(recorder)
        assert row.success is False and "finish_reason=length" in row.error_message
        assert row.completion_tokens > 0 and row.call_type == "code_diff"

    def test_a_refusal_is_an_output_error_quoting_the_refusal(
        self, scripted: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        scripted.faults.add("*", Refusal("I can't help with alloys."))
        with pytest.raises(LlmOutputError, match="refused: I can't help with alloys") as raised:
            client_for(scripted, recorder).complete(Kind.NEW_FILE, messages_for(Kind.NEW_FILE))
        assert raised.value.feedback
        [row] = llm_rows(recorder)
        assert row.success is False and "refused" in row.error_message

    @pytest.mark.parametrize("fault", [
        Malformed(), Status(200, body=b"<html>gateway</html>"), Status(200, body=[1, 2]),
        Status(200, body={"object": "list", "data": []}), Oversized(4096),
    ], ids=["truncated-json", "html", "json-array", "other-object", "oversized-page"])
    def test_a_body_that_is_not_a_chat_completion_is_an_invalid_response_and_recorded(
        self, fault: Any, scripted: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        scripted.faults.add("*", fault)
        with pytest.raises(InvalidResponse, match="not a chat completion"):
            client_for(scripted, recorder).complete(Kind.ISSUE_SPEC, messages_for(Kind.ISSUE_SPEC))
        [row] = llm_rows(recorder)
        assert row.success is False and "not a chat completion" in row.error_message
        assert row.estimated_cost is None


class TestLlmUsageAndCost:
    def test_cached_prompt_tokens_are_recorded_and_charged_at_the_cached_rate(
        self, scripted: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        client = client_for(scripted, recorder)
        context = "Material table context line. " * 400
        first = messages_for(Kind.ISSUE_SPEC, context + "first question")
        second = messages_for(Kind.ISSUE_SPEC, context + "second question")
        client.complete(Kind.ISSUE_SPEC, first)
        result = client.complete(Kind.ISSUE_SPEC, second)

        rows = llm_rows(recorder)
        assert [r.cached_tokens for r in rows][0] == 0
        row = rows[1]
        assert row.cached_tokens >= 1024 and row.cached_tokens % 128 == 0
        assert row.prompt_tokens == estimate_tokens(prompt_text(second))
        assert row.total_tokens == row.prompt_tokens + row.completion_tokens
        assert row.reasoning_tokens == 0
        cost = expected_cost(row.prompt_tokens, row.cached_tokens, row.completion_tokens)
        assert row.estimated_cost == cost == result.cost
        assert cost < expected_cost(row.prompt_tokens, 0, row.completion_tokens)

    def test_reasoning_tokens_are_recorded_for_a_reasoning_model(
        self, scripted: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        client_for(scripted, recorder, model="o4-mini").complete(
            Kind.ISSUE_SPEC, messages_for(Kind.ISSUE_SPEC))
        [row] = llm_rows(recorder)
        assert row.model == "o4-mini"
        assert 0 < row.reasoning_tokens < row.completion_tokens
        o4_mini = (Decimal("1.10"), Decimal("0.275"), Decimal("4.40"))
        assert row.estimated_cost == expected_cost(row.prompt_tokens, 0, row.completion_tokens,
                                                   o4_mini)

    def test_an_unknown_model_has_a_null_cost_and_a_warning(
        self, scripted: OpenAIStandin, recorder: HistoryRecorder,
        caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.WARNING, logger="integrations.llm.client"):
            result = client_for(scripted, recorder, model="llama-3-70b").complete(
                Kind.ISSUE_SPEC, messages_for(Kind.ISSUE_SPEC))
        assert result.cost is None
        [row] = llm_rows(recorder)
        assert row.estimated_cost is None and row.prompt_tokens > 0 and row.success is True
        assert any("llama-3-70b" in r.getMessage() and r.levelno == logging.WARNING
                   for r in caplog.records)

    def test_the_duration_covers_the_round_trip(
        self, scripted: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        scripted.latency = 0.2
        client_for(scripted, recorder).complete(Kind.ISSUE_SPEC, messages_for(Kind.ISSUE_SPEC))
        [row] = llm_rows(recorder)
        assert Decimal("0.2") <= row.duration_seconds < Decimal("5")


class TestLlmResponseCache:
    """The cache table is shared by the tests of this folder, so each test asks its own thing."""

    def test_a_second_identical_call_is_a_hit_that_never_reaches_the_server(
        self, scripted: OpenAIStandin, recorder: HistoryRecorder,
        ask: str
    ) -> None:
        cache = PostgresResponseCache(recorder.engine, ttl=timedelta(hours=1))
        client = client_for(scripted, recorder, cache=cache)
        first = client.complete(Kind.FILE_EDITS, messages_for(Kind.FILE_EDITS, ask))
        second = client.complete(Kind.FILE_EDITS, messages_for(Kind.FILE_EDITS, ask))

        assert len(scripted.requests) == 1
        assert (second.data, second.cache_hit, second.cost) == (EDITS, True, Decimal(0))
        assert second.reply == first.reply == FileEdits(
            edits=[EditPair(search="int x;", replace="int x = 1;")], summary="init x")
        assert second.cache_key == first.cache_key and len(first.cache_key) == 64
        miss, hit = llm_rows(recorder)
        assert (miss.cache_hit, hit.cache_hit) == (False, True)
        assert hit.estimated_cost == Decimal(0) and hit.cache_key == first.cache_key
        assert (hit.call_type, hit.model, hit.success) == ("code_diff", "gpt-4o", True)
        with recorder.engine.connect() as conn:
            [entry] = conn.execute(select(LlmResponseCache).where(
                LlmResponseCache.cache_key == first.cache_key)).all()
        assert (entry.cache_key, entry.hit_count, entry.response) == (first.cache_key, 1, EDITS)

    @pytest.mark.parametrize("change", ["model", "messages", "kind"])
    def test_anything_that_changes_the_answer_is_a_miss(
        self, change: str, scripted: OpenAIStandin, recorder: HistoryRecorder,
        ask: str
    ) -> None:
        cache = PostgresResponseCache(recorder.engine, ttl=timedelta(hours=1))
        client_for(scripted, recorder, cache=cache).complete(
            Kind.ISSUE_SPEC, messages_for(Kind.ISSUE_SPEC, ask))
        model = "gpt-4o-mini" if change == "model" else "gpt-4o"
        kind = Kind.NEW_FILE if change == "kind" else Kind.ISSUE_SPEC
        text = ask + " and more" if change == "messages" else ask
        result = client_for(scripted, recorder, model=model, cache=cache).complete(
            kind, messages_for(Kind.ISSUE_SPEC, text))
        assert result.cache_hit is False and len(scripted.requests) == 2

    def test_a_failed_answer_is_never_cached(
        self, scripted: OpenAIStandin, recorder: HistoryRecorder,
        ask: str
    ) -> None:
        cache = PostgresResponseCache(recorder.engine, ttl=timedelta(hours=1))
        client = client_for(scripted, recorder, cache=cache)
        scripted.faults.add("*", Truncated())
        with pytest.raises(LlmOutputError):
            client.complete(Kind.ISSUE_SPEC, messages_for(Kind.ISSUE_SPEC, ask))
        fresh = client.complete(Kind.ISSUE_SPEC, messages_for(Kind.ISSUE_SPEC, ask))
        hit = client.complete(Kind.ISSUE_SPEC, messages_for(Kind.ISSUE_SPEC, ask))
        assert (fresh.cache_hit, hit.cache_hit, len(scripted.requests)) == (False, True, 2)
        assert [r.cache_hit for r in llm_rows(recorder)] == [False, False, True]

    def test_an_expired_entry_and_use_cache_false_both_call_the_model(
        self, scripted: OpenAIStandin, recorder: HistoryRecorder,
        ask: str
    ) -> None:
        expired = client_for(scripted, recorder,
                             cache=PostgresResponseCache(recorder.engine, ttl=timedelta(0)))
        expired.complete(Kind.NEW_FILE, messages_for(Kind.NEW_FILE, ask))
        assert expired.complete(Kind.NEW_FILE, messages_for(Kind.NEW_FILE, ask)).cache_hit is False
        live = client_for(scripted, recorder,
                          cache=PostgresResponseCache(recorder.engine, ttl=timedelta(hours=1)))
        live.complete(Kind.NEW_FILE, messages_for(Kind.NEW_FILE, ask))
        bypass = live.complete(Kind.NEW_FILE, messages_for(Kind.NEW_FILE, ask), use_cache=False)
        assert bypass.cache_hit is False and len(scripted.requests) == 4

    def test_the_factory_builds_a_cached_client_from_settings(
        self, scripted: OpenAIStandin, recorder: HistoryRecorder,
        ask: str
    ) -> None:
        # pydantic-settings' `_env_file` init argument is not in the dataclass-transform
        # signature mypy sees (no pydantic plugin here), hence the ignore.
        settings = Settings(_env_file=None, openai_api_key=SecretStr("sk-test"),  # type: ignore[call-arg]
                            openai_base_url=scripted.base_url, llm_model="gpt-4.1-mini",
                            llm_max_retries=0, llm_timeout_seconds=5)
        client = build_llm_client(settings, recorder, recorder.engine)
        client.complete(Kind.ISSUE_SPEC, messages_for(Kind.ISSUE_SPEC, ask))
        assert client.complete(Kind.ISSUE_SPEC, messages_for(Kind.ISSUE_SPEC, ask)).cache_hit
        assert scripted.requests[0].headers["authorization"] == "Bearer sk-test"
        assert [(r.model, r.cache_hit) for r in llm_rows(recorder)] == [
            ("gpt-4.1-mini", False), ("gpt-4.1-mini", True)]


class TestLlmRecordingNeverBreaksTheCall:
    def test_a_history_row_that_violates_its_foreign_key_is_logged_and_kept_in_failures(
        self, scripted: OpenAIStandin, db: Engine, caplog: pytest.LogCaptureFixture
    ) -> None:
        recorder = HistoryRecorder(db, history_id=999_999)
        with caplog.at_level(logging.ERROR, logger="db.recorder"):
            result = client_for(scripted, recorder).complete(
                Kind.ISSUE_SPEC, messages_for(Kind.ISSUE_SPEC))
        assert result.data == SPEC
        [failure] = recorder.failures
        assert "ForeignKeyViolation" in failure and "999999" in failure
        assert any(r.getMessage() == failure for r in caplog.records)
        assert llm_rows(recorder) == []

    def test_an_unreachable_database_does_not_stop_the_answer(
        self, scripted: OpenAIStandin
    ) -> None:
        dead = create_engine("postgresql+psycopg2://nobody:pw@127.0.0.1:1/none",
                             connect_args={"connect_timeout": 2})
        recorder = HistoryRecorder(dead, history_id=1)
        cache = PostgresResponseCache(dead, ttl=timedelta(hours=1))
        result = client_for(scripted, recorder, cache=cache).complete(
            Kind.NEW_FILE, messages_for(Kind.NEW_FILE))
        assert result.data == NEW_FILE and result.cache_hit is False
        assert len(recorder.failures) == 1 and "OperationalError" in recorder.failures[0]

    def test_an_exhausted_connection_pool_does_not_stop_the_answer(
        self, scripted: OpenAIStandin, db: Engine, history_id: int
    ) -> None:
        tiny = create_engine(db.url, pool_size=1, max_overflow=0, pool_timeout=0.1)
        recorder = HistoryRecorder(tiny, history_id=history_id)
        try:
            with tiny.connect():  # the only connection is busy elsewhere
                result = client_for(scripted, recorder).complete(
                    Kind.ISSUE_SPEC, messages_for(Kind.ISSUE_SPEC))
        finally:
            tiny.dispose()
        assert result.data == SPEC
        assert len(recorder.failures) == 1 and "TimeoutError" in recorder.failures[0]

    def test_an_error_text_postgres_cannot_hold_as_is_is_recorded_with_the_real_error(
        self, scripted: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        scripted.faults.add("*", Refusal("No\x00pe \ud800"))
        with pytest.raises(LlmOutputError, match="refused"):
            client_for(scripted, recorder).complete(Kind.ISSUE_SPEC, messages_for(Kind.ISSUE_SPEC))
        assert recorder.failures == []
        with recorder.engine.connect() as conn:
            stored = conn.execute(text(
                "SELECT error_message FROM llm_call_history ORDER BY id DESC LIMIT 1")).scalar_one()
        assert "No\ufffdpe \ufffd" in stored

    def test_concurrent_calls_each_record_their_own_row(
        self, scripted: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        client = client_for(scripted, recorder)
        threads = [threading.Thread(target=client.complete, args=(
            Kind.FILE_EDITS, messages_for(Kind.FILE_EDITS, f"change {i}"))) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rows = llm_rows(recorder)
        assert len(rows) == 6 and len({r.cache_key for r in rows}) == 6
        assert recorder.failures == []


class TestLlmRetries:
    """The SDK is the single retry layer: one logical call, one history row, N requests."""

    @pytest.mark.parametrize("code", [429, 500, 502, 503])
    def test_a_transient_status_then_success_gives_one_result(
        self, code: int, scripted: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        scripted.faults.add("*", Status(code, retry_after=0.01))
        result = client_for(scripted, recorder, max_retries=2).complete(
            Kind.ISSUE_SPEC, messages_for(Kind.ISSUE_SPEC))
        assert result.data == SPEC and len(scripted.requests) == 2
        [row] = llm_rows(recorder)
        assert row.success is True

    def test_a_persisting_503_is_a_transient_error_after_the_sdk_retries(
        self, scripted: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        scripted.faults.add("*", Status(503, retry_after=0.01), times=3)
        with pytest.raises(TransientError, match="answered 503"):
            client_for(scripted, recorder, max_retries=2).complete(
                Kind.ISSUE_SPEC, messages_for(Kind.ISSUE_SPEC))
        assert len(scripted.requests) == 3
        [row] = llm_rows(recorder)
        assert row.success is False and "503" in row.error_message
        assert row.provider_request_id.startswith("req_")
        assert row.prompt_tokens is None and row.estimated_cost is None

    @pytest.mark.parametrize(("fault", "words"), [
        (Delay(1.0), "timed out"), (Reset(), "unreachable")], ids=["slow", "reset"])
    def test_a_slow_or_dropped_connection_is_transient_after_the_sdk_retries(
        self, fault: Any, words: str, scripted: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        scripted.faults.add("*", fault, times=2)
        with pytest.raises(TransientError, match=words):
            client_for(scripted, recorder, max_retries=1, timeout=0.3).complete(
                Kind.ISSUE_SPEC, messages_for(Kind.ISSUE_SPEC))
        assert len(scripted.requests) == 2
        [row] = llm_rows(recorder)
        assert row.success is False and words in row.error_message

    @pytest.mark.parametrize("code", [400, 401, 403, 404, 422])
    def test_a_client_error_fails_fast_without_a_retry(
        self, code: int, scripted: OpenAIStandin, recorder: HistoryRecorder
    ) -> None:
        scripted.faults.add("*", Status(code))
        with pytest.raises(PermanentError, match=f"answered {code}") as raised:
            client_for(scripted, recorder, max_retries=2).complete(
                Kind.ISSUE_SPEC, messages_for(Kind.ISSUE_SPEC))
        assert not isinstance(raised.value, TransientError)
        assert len(scripted.requests) == 1
        [row] = llm_rows(recorder)
        assert row.success is False and f"answered {code}" in row.error_message
