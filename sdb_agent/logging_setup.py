"""Install the secret-masking filter on every handler that could print or ship a log line."""

from __future__ import annotations

import logging

from sdb_agent.redaction import RedactingFilter, secret_values
from sdb_agent.settings import Settings


def install_redaction(settings: Settings) -> None:
    """Idempotent: each handler of the root and `prefect` loggers gets one filter."""
    secrets = secret_values(settings)
    names = ("", "prefect", "prefect.extra", "prefect.flow_runs", "prefect.task_runs")
    for logger in (logging.getLogger(name) for name in names):
        for handler in logger.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter(secrets))
