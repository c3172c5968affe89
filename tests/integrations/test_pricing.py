"""The price table and the cost formula."""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations.llm.pricing import PriceTable

REQUIRED_MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o3-mini", "o4-mini")


class TestPriceTable:
    def test_the_bundled_table_has_an_as_of_date_and_every_required_model(self) -> None:
        table = PriceTable.bundled()
        assert table.as_of
        assert all(table.price_of(model) for model in REQUIRED_MODELS)

    def test_cached_tokens_are_charged_at_the_cached_rate_and_the_rest_at_the_input_rate(
        self,
    ) -> None:
        table = PriceTable.bundled()
        # gpt-4o: 2.50 input, 1.25 cached input, 10.00 output per 1M tokens
        cost = table.cost("gpt-4o", prompt=1_000_000, cached=400_000, completion=100_000)
        assert cost == Decimal("1.500000") + Decimal("0.500000") + Decimal("1.000000")

    def test_a_dated_snapshot_is_priced_as_its_model(self) -> None:
        table = PriceTable.bundled()
        assert table.cost("gpt-4o-mini-2024-07-18", prompt=1000, cached=0, completion=0) == (
            table.cost("gpt-4o-mini", prompt=1000, cached=0, completion=0))

    @pytest.mark.parametrize("model", ["llama-3-70b", "gpt-5-unknown", ""])
    def test_an_unknown_model_has_no_cost_rather_than_zero(self, model: str) -> None:
        assert PriceTable.bundled().cost(model, prompt=10, cached=0, completion=10) is None
