"""The offline token count: OpenAI's tokenizer with a vocabulary that ships in a package."""

from __future__ import annotations

from decimal import Decimal

from base.pricing import PriceTable
from base.settings import Settings
from integrations.llm.prompts import spec_messages
from integrations.llm.schemas import Kind
from integrations.llm.tokens import count_prompt, count_text, method_for
from tasks.estimate import FEEDBACK_TOKENS, estimate


def test_the_count_is_cl100k_base_itself() -> None:
    # known cl100k_base encodings: "hello world" is 2 tokens, "<|endoftext|>" is plain text here
    assert count_text("hello world") == 2
    assert count_text("<|endoftext|>") > 1
    assert count_text("티타늄 합금") > count_text("titanium")  # Hangul costs more per letter


def test_the_method_says_whether_the_count_is_exact() -> None:
    assert method_for("gpt-4") == "tiktoken cl100k_base (offline, exact)"
    assert method_for("gpt-4o-mini") == \
        "tiktoken cl100k_base (offline, approximating o200k_base)"
    assert method_for("openai/gpt-5-mini").endswith("approximating o200k_base)")
    assert "unknown" in method_for("local-llama")


def test_a_prompt_counts_its_messages_framing_and_schema() -> None:
    messages = spec_messages(issue_key="MAT-1", summary="s", description="d")
    text_only = sum(count_text(m["role"]) + count_text(m["content"]) for m in messages)
    assert count_prompt(messages, Kind.ISSUE_SPEC.value.response_format) > text_only + 3 * 2


def test_the_estimate_adds_the_allowance_and_grows_each_retry() -> None:
    settings = Settings.from_values({"LLM_MODEL": "gpt-4o-mini", "EDIT_ATTEMPTS": "3",
                                     "LLM_MAX_COMPLETION_TOKENS": "1000"})
    prices = PriceTable.bundled()
    planned = [(Kind.ISSUE_SPEC, spec_messages(issue_key="MAT-1", summary="s", description="d"))]
    prompt = count_prompt(planned[0][1], Kind.ISSUE_SPEC.value.response_format)
    got = estimate(settings, prices, planned, spent=Decimal("0.01"))

    def cost(tokens: int) -> Decimal:
        value = prices.cost("gpt-4o-mini", prompt=tokens, cached=0, completion=1000)
        assert value is not None
        return value

    assert got.first_attempt == Decimal("0.01") + cost(prompt)
    assert got.worst_case == Decimal("0.01") + sum(
        cost(prompt + k * (1000 + FEEDBACK_TOKENS)) for k in range(3))
    assert (got.calls, got.prompt_tokens, got.attempts) == (1, prompt, 3)
    unpriced = estimate(Settings.from_values({"LLM_MODEL": "local-llama"}), prices, planned)
    assert unpriced.first_attempt is None and "unpriced" in unpriced.text()
