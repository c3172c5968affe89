"""One exception hierarchy for every outside service (git hosts, LLM, Jira).

Library errors (requests, openai, git) are mapped to these at each client's boundary with
`raise ... from exc`. They are product errors, so their messages are masked as they are made.
"""

from __future__ import annotations

from sdb_agent.errors import SdbAgentError


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
