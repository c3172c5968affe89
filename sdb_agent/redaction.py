"""Keep secrets out of every text that leaves the process.

`install(settings)` is called once by every entry point (the CLI, `serve`, each flow). From
then on the configured secret values are replaced by `***`:
- in every log record, whichever logger or handler (Prefect's API log shipper and uvicorn's
  access log included), message and traceback alike;
- in every parameter sent to PostgreSQL by any SQLAlchemy engine, so no history, maintenance
  or webhook row can hold one (the same pass makes each text storable, `sdb_agent.storable`);
- in the message of every product error (`SdbAgentError`), which is what Prefect shows as a
  task or flow state message and what the HTTP app answers.
Artifacts and PR text are built from those rows and messages, or pass through `redact`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from sdb_agent.storable import scrub_text

if TYPE_CHECKING:
    from sdb_agent.settings import Settings

MASK = "***"
MIN_SECRET_LENGTH = 4
_SECRET_FIELDS = ("openai_api_key", "bitbucket_access_token", "bitbucket_api_token",
                  "jira_webhook_secret", "jira_webhook_token", "jira_api_token",
                  "jira_personal_access_token",
                  "smtp_password", "api_token", "local_prefect_database_url", "database_url")
_active: list[str] = []
_log_records_masked = False


def secret_values(settings: Settings) -> list[str]:
    """The configured secret strings and the database passwords, longest first."""
    values = []
    for name in _SECRET_FIELDS:
        secret = getattr(settings, name, None)
        if secret is not None and secret.get_secret_value():
            values.append(secret.get_secret_value())
    for url in (settings.database_url, settings.local_prefect_database_url):
        if url is not None:
            password = make_url(url.get_secret_value()).password
            if password:
                values.append(str(password))
    return sorted({v for v in values if len(v) >= MIN_SECRET_LENGTH}, key=len, reverse=True)


def install(settings: Settings) -> None:
    """Mask these settings' secrets from now on, in every sink; safe to call again."""
    global _log_records_masked
    _active[:] = secret_values(settings)
    if not _log_records_masked:
        _install_log_records()
        _log_records_masked = True


def redact(text: str) -> str:
    """`text` with every installed secret masked."""
    for value in _active:
        if value in text:
            text = text.replace(value, MASK)
    return text


def _redact_param(value: Any) -> Any:
    """A text bound for PostgreSQL: masked, and storable (NUL and unpaired surrogates, which
    PostgreSQL or its driver refuse, become U+FFFD rather than losing the whole row)."""
    return scrub_text(redact(value)) if isinstance(value, str) else value


def _redact_params(params: Any) -> Any:
    if isinstance(params, Mapping):
        return {key: _redact_param(value) for key, value in params.items()}
    if isinstance(params, Sequence) and not isinstance(params, str):
        if params and isinstance(params[0], Mapping | Sequence) and not isinstance(
                params[0], str):
            return [_redact_params(row) for row in params]  # executemany
        return tuple(_redact_param(value) for value in params)
    return params


def _redact_statement(conn: Any, cursor: Any, statement: str, parameters: Any,
                      context: Any, executemany: bool) -> tuple[str, Any]:
    return statement, _redact_params(parameters)


def _install_log_records() -> None:
    """Every record is masked as it is made, before any handler or filter sees it."""
    make_record = logging.getLogRecordFactory()

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        if _active:
            try:
                record.msg, record.args = redact(record.getMessage()), None
            except (TypeError, ValueError):  # a malformed format: leave it to logging
                return record
            if record.exc_info and not record.exc_text:
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(masked_record)


# Every engine of the process, from the first import on: texts are made storable even before
# an entry point installs the secrets, so no code path depends on who called install() first.
event.listen(Engine, "before_cursor_execute", _redact_statement, retval=True)
