"""How every command speaks: plain help, and a product error as one line on stderr."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import typer

from base.errors import SdbAgentError

P = ParamSpec("P")
R = TypeVar("R")

# Plain help: typer's rich help shows a `<bool>` value after every flag (`--force <bool>`),
# which reads as if the flag took one.
PLAIN_HELP: dict[str, Any] = {"rich_markup_mode": None}


def one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Print a product error as one line on stderr and exit 1, instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except SdbAgentError as exc:
            typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
            raise typer.Exit(1) from None

    return wrapper
