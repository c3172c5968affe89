"""`sdb-agent budget ...`: the hard LLM budgets in force and today's ledger; a cap changed here
applies to the next LLM call of every active run, in every process."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated

import typer

from cli.output import PLAIN_HELP, one_line_errors

if TYPE_CHECKING:
    from db.llm_budget import CapName

budget_app = typer.Typer(help="The hard LLM budgets: what is in force and what today spent.",
                         no_args_is_help=True, **PLAIN_HELP)

Which = Annotated[str, typer.Argument(help="per-run or per-day.")]
_NAMES: dict[str, CapName] = {"per-run": "per_run", "per-day": "per_day"}


def _name(which: str) -> CapName:
    if which not in _NAMES:
        raise typer.BadParameter(f"{which!r}: expected per-run or per-day", param_hint="WHICH")
    return _NAMES[which]


def _amount(text: str) -> Decimal | None:
    if text.strip().lower() == "none":
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise typer.BadParameter(f"{text!r} is not an amount in USD (or 'none')",
                                 param_hint="USD") from None
    if not amount.is_finite() or amount <= 0:
        raise typer.BadParameter(f"{text!r}: a cap is more than 0 (or 'none' to lift it)",
                                 param_hint="USD")
    return amount


@budget_app.command("show")
@one_line_errors
def show() -> None:
    """The caps in force (and where each comes from) and today's UTC ledger."""
    from base import clock
    from db import llm_budget
    from tasks.budget import configured_caps
    from tasks.runtime import current_runtime

    runtime = current_runtime()
    configured = configured_caps(runtime.settings)
    stored = llm_budget.stored_caps(runtime.engine)
    for name, setting in llm_budget.CAP_SETTINGS.items():
        value = stored[name] if name in stored else getattr(configured, name)
        source = "set at run time" if name in stored else "environment"
        typer.echo(f"{setting}: {'none' if value is None else llm_budget.usd(value)} ({source})")
    day = llm_budget.day_ledger(runtime.engine, clock.today())
    typer.echo(f"{day.day} (UTC): spent {llm_budget.usd(day.spent)} in {day.calls} call(s), "
               f"{llm_budget.usd(day.reserved)} reserved by calls in flight, "
               f"{day.refusals} call(s) refused")


@budget_app.command("set")
@one_line_errors
def set_cap(which: Which, usd: Annotated[str, typer.Argument(
        help="The cap in USD, or 'none' to lift it whatever the environment says.")]) -> None:
    """Set a cap for every process, from each active run's next call on."""
    from db import llm_budget
    from tasks.runtime import current_runtime
    from tasks.wiring import price_table

    name, amount = _name(which), _amount(usd)
    runtime = current_runtime()
    model = runtime.settings.llm_model
    if amount is not None and price_table(runtime.settings).price_of(model) is None:
        raise typer.BadParameter(f"LLM_MODEL {model} has no price, so a budget cannot be kept; "
                                 "price it in PRICING_FILE", param_hint="USD")
    llm_budget.set_cap(runtime.engine, name, amount)
    typer.echo(f"{llm_budget.CAP_SETTINGS[name]}: "
               f"{'none' if amount is None else llm_budget.usd(amount)} (set at run time)")


@budget_app.command("clear")
@one_line_errors
def clear(which: Which) -> None:
    """Forget the cap set at run time: the environment's value applies again."""
    from db import llm_budget
    from tasks.runtime import current_runtime

    name = _name(which)
    llm_budget.clear_cap(current_runtime().engine, name)
    typer.echo(f"{llm_budget.CAP_SETTINGS[name]}: from the environment again")
