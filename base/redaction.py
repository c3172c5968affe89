"""Keep secrets out of every text that leaves the process.

`install(settings)` is called once by every entry point (the CLI, `serve`, each flow). From
then on the configured secret values are replaced by `***`:
- in every log record, whichever logger or handler (Prefect's API log shipper and uvicorn's
  access log included), message and traceback alike;
- in every parameter sent to PostgreSQL by any SQLAlchemy engine, so no history, maintenance
  or webhook row can hold one (the same pass makes each text storable, `base.storable`);
- in the message of every product error (`SdbAgentError`), which is what Prefect shows as a
  task or flow state message and what the HTTP app answers.
Artifacts and PR text are built from those rows and messages, or pass through `redact`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from base.storable import scrub_text

MASK = "***"
MIN_SECRET_LENGTH = 4
_active: list[str] = []
_log_records_masked = False


def install(secrets: Iterable[str]) -> None:
    """Mask these secrets (`Settings.secret_values()`) from now on, in every sink; safe to
    call again."""
    global _log_records_masked
    _active[:] = sorted({v for v in secrets if len(v) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
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


def _mask_message(record: logging.LogRecord) -> None:
    """Arguments are kept where they can be (formatters such as uvicorn's access log unpack
    them): a clean record is left alone, and a secret in a text argument is masked in place.
    Only a secret the arguments do not hold as text folds the record into one message."""
    message = record.getMessage()
    if redact(message) == message:
        return
    if isinstance(record.args, tuple) and isinstance(record.msg, str):
        args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        masked = redact(record.msg)
        if redact(masked % args) == masked % args:
            record.msg, record.args = masked, args
            return
    record.msg, record.args = redact(message), None


def _install_log_records() -> None:
    """Every record is masked as it is made, before any handler or filter sees it."""
    make_record = logging.getLogRecordFactory()

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        if _active:
            try:
                _mask_message(record)
            except (TypeError, ValueError):  # a malformed format: leave it to logging
                return record
            if record.exc_info and not record.exc_text:
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(masked_record)


# Every engine of the process, from the first import on: texts are made storable even before
# an entry point installs the secrets, so no code path depends on who called install() first.
event.listen(Engine, "before_cursor_execute", _redact_statement, retval=True)
