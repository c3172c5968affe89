"""The mask installed once covers every log record (uvicorn's access log, tracebacks) and
every product error, whichever logger or handler."""

from __future__ import annotations

import io
import logging

import pytest

from base import redaction
from base.errors import PermanentError
from base.settings import load_settings

API_TOKEN = "api-REDACT-token-1"
DB_PASSWORD = "db-REDACT-p@ss"


@pytest.fixture
def masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_TOKEN", API_TOKEN)
    monkeypatch.setenv("DATABASE_URL", "postgresql://sdb:db-REDACT-p%40ss@db.internal/sdb")
    redaction.install(load_settings().secret_values())


def handler_on(name: str) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    logger = logging.getLogger(name)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    return logger, stream


class TestTheMask:
    def test_uvicorns_access_log_does_not_show_a_token_in_the_query(self, masked: None) -> None:
        logger, stream = handler_on("uvicorn.access")
        logger.warning('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET",
                       f"/history?access_token={API_TOKEN}", "1.1", 401)
        assert API_TOKEN not in stream.getvalue() and "access_token=***" in stream.getvalue()

    @pytest.mark.parametrize("path", ["/healthz", f"/history?access_token={API_TOKEN}"])
    def test_uvicorns_own_access_formatter_still_has_its_arguments(
        self, masked: None, path: str
    ) -> None:
        from uvicorn.logging import AccessFormatter

        record = logging.getLogger("uvicorn.access").makeRecord(
            "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
            ("127.0.0.1:5", "GET", path, "1.1", 200), None)
        line = AccessFormatter("%(request_line)s %(status_code)s", use_colors=False).format(
            record)
        assert line == f"GET {path.replace(API_TOKEN, '***')} HTTP/1.1 200 OK"

    def test_a_secret_inside_an_object_argument_is_masked_in_the_message(
        self, masked: None
    ) -> None:
        logger, stream = handler_on("sdb.test.object")
        logger.warning("connecting to %s", ValueError(f"token {API_TOKEN}"))
        assert stream.getvalue() == "connecting to token ***\n"

    def test_a_traceback_is_masked_too(self, masked: None) -> None:
        logger, stream = handler_on("sdb.test.traceback")
        try:
            raise RuntimeError(f"connect failed for password {DB_PASSWORD}")
        except RuntimeError:
            logger.exception("while connecting")
        assert DB_PASSWORD not in stream.getvalue() and "password ***" in stream.getvalue()

    def test_a_product_error_is_masked_as_it_is_made(self, masked: None) -> None:
        error = PermanentError(f"Bitbucket answered 401: token {API_TOKEN} is invalid")
        assert API_TOKEN not in str(error) and "token *** is invalid" in str(error)
