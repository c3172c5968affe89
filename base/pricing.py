"""The versioned price table (`pricing.json`), a deployment's own prices, and the cost formula.

cost = (prompt - cached) x input + cached x cached_input + completion x output, per 1M tokens.
Reasoning tokens are already inside the completion tokens. A model with no `cached_input`
price gets no cache discount. A model missing from the table has no price: its cost is None
(stored as NULL, shown as "unpriced"), never 0.

Which entry prices a model: the entry named exactly as the model, else the longest entry
that the model's name begins with followed by "-". So a dated snapshot with a price of its
own (gpt-4o-2024-05-13) has its own entry, and one without (gpt-4o-2024-08-06, or
gpt-5-mini-2025-08-07) is priced as its alias; a variant priced apart from its family
(gpt-5-pro, o3-pro) must have its own entry too.

`PRICING_FILE` (YAML or JSON, the same shape as `pricing.json`; only `models` is required)
adds or replaces entries of the bundled table, for private or self-hosted models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

_MILLION = Decimal(1_000_000)


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: Decimal = Field(ge=0)
    output: Decimal = Field(ge=0)
    cached_input: Decimal | None = Field(default=None, ge=0)


class _PriceFile(BaseModel):
    """USD per 1M tokens; unknown keys are refused, so a misspelt price cannot go unnoticed."""

    model_config = ConfigDict(extra="forbid")
    models: dict[str, _Entry] = Field(min_length=1)
    as_of: str | None = None
    source: str | None = None
    note: str | None = None
    currency: Literal["USD"] = "USD"
    unit: Literal["per 1M tokens"] = "per 1M tokens"


class PriceFileError(ValueError):
    """A price file that cannot be used; the message names the file and the problem."""


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
        raw = resources.files("base").joinpath("pricing.json").read_text()
        return cls.from_json(json.loads(raw))

    @classmethod
    def load(cls, pricing_file: Path | None) -> PriceTable:
        """The bundled table with `pricing_file`'s entries over it."""
        table = cls.bundled()
        if pricing_file is None:
            return table
        return cls(table.as_of, {**table.prices, **read_price_file(pricing_file)})

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PriceTable:
        parsed = _PriceFile.model_validate(data)
        return cls(as_of=str(parsed.as_of), prices=_prices(parsed))

    def price_of(self, model: str) -> ModelPrice | None:
        """The exact entry, else the longest entry the name begins with before a "-"."""
        if model in self.prices:
            return self.prices[model]
        family = [name for name in self.prices if model.startswith(name + "-")]
        return self.prices[max(family, key=len)] if family else None

    def cost(self, model: str, *, prompt: int, cached: int, completion: int) -> Decimal | None:
        price = self.price_of(model)
        if price is None:
            return None
        total = ((prompt - cached) * price.input + cached * price.cached_input
                 + completion * price.output) / _MILLION
        return total.quantize(Decimal("0.000001"))


def read_price_file(path: Path) -> dict[str, ModelPrice]:
    """A deployment's price file, or `PriceFileError` saying in one line what is wrong."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PriceFileError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PriceFileError(f"{path} cannot be read: {exc}") from None
    except yaml.YAMLError as exc:
        raise PriceFileError(f"{path} is not valid YAML or JSON: {_where(exc)}") from None
    try:
        return _prices(_PriceFile.model_validate(raw))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'top level'}: {e['msg']}"
                             for e in exc.errors()[:3])
        raise PriceFileError(f"{path} is invalid: {problems}") from None


def _prices(parsed: _PriceFile) -> dict[str, ModelPrice]:
    return {name: ModelPrice(e.input, e.input if e.cached_input is None else e.cached_input,
                             e.output) for name, e in parsed.models.items()}


def _where(exc: yaml.YAMLError) -> str:
    """PyYAML's problem and position on one line (its own text spans several)."""
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return " ".join(str(exc).split())
    return f"line {mark.line + 1}, column {mark.column + 1}: {getattr(exc, 'problem', '')}"
