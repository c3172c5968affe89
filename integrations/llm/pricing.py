"""The versioned price table (`pricing.json`) and the cost formula.

cost = (prompt - cached) x input + cached x cached_input + completion x output, per 1M tokens.
Reasoning tokens are already inside the completion tokens. A model missing from the table
has no price: its cost is None (stored as NULL, shown as "unpriced"), never 0.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any

_SNAPSHOT_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")
_MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class ModelPrice:
    input: Decimal
    cached_input: Decimal
    output: Decimal


@dataclass(frozen=True)
class PriceTable:
    as_of: str
    prices: dict[str, ModelPrice]

    @classmethod
    def bundled(cls) -> PriceTable:
        raw = resources.files("integrations.llm").joinpath("pricing.json").read_text()
        return cls.from_json(json.loads(raw))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PriceTable:
        prices = {
            name: ModelPrice(*(Decimal(str(entry[k])) for k in ("input", "cached_input", "output")))
            for name, entry in data["models"].items()
        }
        return cls(as_of=str(data["as_of"]), prices=prices)

    def price_of(self, model: str) -> ModelPrice | None:
        """The price of a model, accepting dated snapshots such as gpt-4o-2024-08-06."""
        return self.prices.get(model) or self.prices.get(_SNAPSHOT_SUFFIX.sub("", model))

    def cost(self, model: str, *, prompt: int, cached: int, completion: int) -> Decimal | None:
        price = self.price_of(model)
        if price is None:
            return None
        total = ((prompt - cached) * price.input + cached * price.cached_input
                 + completion * price.output) / _MILLION
        return total.quantize(Decimal("0.000001"))
