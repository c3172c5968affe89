"""The price table, how a model finds its entry, the cost formula and `PRICING_FILE`."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from base.errors import ConfigError
from base.pricing import PriceTable
from base.settings import load_settings

REQUIRED_MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o3-mini", "o4-mini",
                   "o3", "gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-5.1", "gpt-5.2")
MILLION = {"prompt": 1_000_000, "cached": 0, "completion": 0}


def per_million(table: PriceTable, model: str, **tokens: int) -> Decimal | None:
    return table.cost(model, **{**MILLION, **tokens})


class TestTheBundledTable:
    def test_it_is_dated_names_its_source_and_prices_every_required_model(self) -> None:
        table = PriceTable.bundled()
        assert table.as_of >= "2026-12-02"
        assert all(table.price_of(model) for model in REQUIRED_MODELS)

    def test_the_gpt_5_family_is_priced_with_its_cached_input_rate(self) -> None:
        table = PriceTable.bundled()
        # gpt-5-mini: 0.25 input, 0.025 cached input, 2.00 output per 1M tokens
        assert per_million(table, "gpt-5-mini") == Decimal("0.25")
        assert per_million(table, "gpt-5-mini", cached=1_000_000) == Decimal("0.025")
        assert per_million(table, "gpt-5-mini", prompt=0, completion=1_000_000) == Decimal("2")

    def test_cached_tokens_are_charged_at_the_cached_rate_and_the_rest_at_the_input_rate(
        self,
    ) -> None:
        table = PriceTable.bundled()
        # gpt-4o: 2.50 input, 1.25 cached input, 10.00 output per 1M tokens
        cost = table.cost("gpt-4o", prompt=1_000_000, cached=400_000, completion=100_000)
        assert cost == Decimal("1.500000") + Decimal("0.500000") + Decimal("1.000000")


class TestWhichEntryPricesAModel:
    def test_a_snapshot_with_its_own_price_is_priced_by_its_own_entry(self) -> None:
        table = PriceTable.bundled()
        # gpt-4o-2024-05-13: 5.00 input, 15.00 output, no cached rate (the alias: 2.50, 10.00)
        assert per_million(table, "gpt-4o-2024-05-13") == Decimal("5")
        assert per_million(table, "gpt-4o-2024-05-13", cached=1_000_000) == Decimal("5")
        assert per_million(table, "gpt-4o") == Decimal("2.5")

    @pytest.mark.parametrize(("snapshot", "alias"), [
        ("gpt-4o-2024-08-06", "gpt-4o"), ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-5-mini-2025-08-07", "gpt-5-mini"), ("gpt-5-nano-2025-08-07", "gpt-5-nano"),
        ("gpt-5.4-mini-2026-03-17", "gpt-5.4-mini"), ("o4-mini-2025-04-16", "o4-mini"),
    ])
    def test_a_snapshot_without_an_entry_is_priced_as_the_longest_entry_it_begins_with(
        self, snapshot: str, alias: str
    ) -> None:
        table = PriceTable.bundled()
        assert table.price_of(snapshot) == table.price_of(alias)

    def test_a_variant_priced_apart_from_its_family_has_an_entry_of_its_own(self) -> None:
        table = PriceTable.bundled()
        assert per_million(table, "gpt-5-pro") == Decimal("15")
        assert per_million(table, "gpt-5") == Decimal("1.25")

    @pytest.mark.parametrize("model", ["llama-3-70b", "gpt-6", "gpt-5x", "o5-mini", ""])
    def test_an_unknown_model_has_no_cost_rather_than_zero(self, model: str) -> None:
        assert PriceTable.bundled().cost(model, prompt=10, cached=0, completion=10) is None


class TestAPricingFile:
    def test_its_entries_are_merged_over_the_bundled_table(self, tmp_path: Path) -> None:
        path = tmp_path / "prices.yaml"
        path.write_text("models:\n"
                        "  local-llama-70b: {input: 0, output: 0}\n"
                        "  gpt-4o: {input: 2.00, cached_input: 1.00, output: 8.00}\n")
        table = PriceTable.load(path)
        assert per_million(table, "local-llama-70b") == Decimal("0")
        assert per_million(table, "gpt-4o", cached=1_000_000) == Decimal("1")
        assert table.price_of("gpt-5-mini") == PriceTable.bundled().price_of("gpt-5-mini")

    def test_a_json_file_is_read_too_and_loads_at_start_up(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = tmp_path / "prices.json"
        path.write_text('{"models": {"qwen2.5-coder": {"input": 0.1, "output": 0.3}}}')
        monkeypatch.setenv("PRICING_FILE", str(path))
        assert load_settings().pricing_file == path
        assert per_million(PriceTable.load(path), "qwen2.5-coder-32b") == Decimal("0.1")

    def test_an_empty_value_means_no_file(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PRICING_FILE", "")
        assert load_settings().pricing_file is None

    @pytest.mark.parametrize(("text", "problem"), [
        (None, "does not exist"),
        ("models: [unclosed\n", "is not valid YAML or JSON: line 2, column 1"),
        ("- just a list\n", "is invalid: top level: Input should be a valid dictionary"),
        ("models: {}\n", "is invalid: models: Dictionary should have at least 1 item"),
        ("models:\n  m: {input: 1, output: 2, cache_input: 0.5}\n",
         "is invalid: models.m.cache_input: Extra inputs are not permitted"),
        ("models:\n  m: {input: -1, output: 2}\n",
         "is invalid: models.m.input: Input should be greater than or equal to 0"),
        ("currency: EUR\nmodels:\n  m: {input: 1, output: 2}\n",
         "is invalid: currency: Input should be 'USD'"),
    ], ids=["missing", "not yaml", "a list", "no models", "a misspelt key", "negative",
            "another currency"])
    def test_a_bad_file_stops_the_start_with_one_line_naming_the_file_and_the_problem(
        self, text: str | None, problem: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = tmp_path / "prices.yaml"
        if text is not None:
            path.write_text(text)
        monkeypatch.setenv("PRICING_FILE", str(path))
        with pytest.raises(ConfigError) as refused:
            load_settings()
        message = str(refused.value)
        assert f"PRICING_FILE: {path} {problem}" in message and "\n" not in message
