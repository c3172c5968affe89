"""Errors that stop the product with one line a person can act on.

Entry points (CLI, HTTP app, flows) print or translate these; they never carry secrets.
"""

from __future__ import annotations


class SdbAgentError(Exception):
    """Base for every error the product raises on purpose."""


class ConfigError(SdbAgentError):
    """A setting is missing or invalid; the message names the variable."""


class DatabaseError(SdbAgentError):
    """The history database cannot be used (unreachable, wrong URL, wrong schema version)."""
