"""Keep secrets out of logs, history rows, artifacts and exception texts.

Every configured secret value is replaced by `***` wherever text leaves the process; the
logging filter applies the same rule to every record.
"""

from __future__ import annotations

import logging

from sdb_agent.settings import Settings

MASK = "***"
_SECRET_FIELDS = ("openai_api_key", "bitbucket_access_token", "bitbucket_api_token",
                  "jira_webhook_secret", "jira_webhook_token", "jira_api_token",
                  "smtp_password", "api_token",
                  "database_url")


def secret_values(settings: Settings) -> list[str]:
    """The configured secret strings (and the database password), longest first."""
    values = []
    for name in _SECRET_FIELDS:
        secret = getattr(settings, name)
        if secret is not None and secret.get_secret_value():
            values.append(secret.get_secret_value())
    if settings.database_url is not None:
        from sqlalchemy.engine import make_url

        password = make_url(settings.database_url.get_secret_value()).password
        if password:
            values.append(str(password))
    return sorted({v for v in values if len(v) >= 4}, key=len, reverse=True)


def redact(text: str, secrets: list[str]) -> str:
    for value in secrets:
        text = text.replace(value, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with every secret masked."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg = redact(record.getMessage(), self.secrets)
            record.args = None
        return True
