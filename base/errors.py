"""Errors that stop the product with one line a person can act on.

Entry points (CLI, HTTP app, flows) print or translate these. Their messages are masked as
they are made (`base.redaction`), so a provider's answer that echoes a credential cannot
carry it into a Prefect state, an HTTP body or a terminal.
"""

from __future__ import annotations

from typing import Any

from base.redaction import redact


class SdbAgentError(Exception):
    """Base for every error the product raises on purpose."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))


class ConfigError(SdbAgentError):
    """A setting is missing or invalid; the message names the variable."""


class BudgetExceeded(SdbAgentError):
    """An LLM call would take spend past a hard budget, so it is not made. The message begins
    with `budget:` and names the cap, what is spent and what the call needs."""


class DatabaseError(SdbAgentError):
    """The history database cannot be used (unreachable, wrong URL, wrong schema version)."""

# Outside services (git hosts, LLM, Jira): library errors (requests, openai, git) are mapped
# to these at each client's boundary with `raise ... from exc`.
class IntegrationError(SdbAgentError):
    """A call to an outside service failed."""


class TransientError(IntegrationError):
    """Worth retrying later: 429, 5xx, timeouts, dropped connections."""


class PermanentError(IntegrationError):
    """Retrying will not help: a 4xx other than 429, or a refused request."""


class NotFound(PermanentError):
    """The ref, file or issue does not exist."""


class Conflict(PermanentError):
    """A compare-and-swap failed: the branch moved under us."""


class InvalidResponse(PermanentError):
    """The service answered with something we cannot trust (not JSON, wrong shape, too big)."""


class PathRefused(PermanentError):
    """A repository path that could escape the repository (absolute, `..`, NUL)."""
