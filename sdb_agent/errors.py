"""Errors that stop the product with one line a person can act on.

Entry points (CLI, HTTP app, flows) print or translate these. Their messages are masked as
they are made (`sdb_agent.redaction`), so a provider's answer that echoes a credential cannot
carry it into a Prefect state, an HTTP body or a terminal.
"""

from __future__ import annotations

from typing import Any

from sdb_agent.redaction import redact


class SdbAgentError(Exception):
    """Base for every error the product raises on purpose."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))


class ConfigError(SdbAgentError):
    """A setting is missing or invalid; the message names the variable."""


class DatabaseError(SdbAgentError):
    """The history database cannot be used (unreachable, wrong URL, wrong schema version)."""
