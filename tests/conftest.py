"""Test harness: one throwaway PostgreSQL per session, migrated once, one database per test.

The server is the product's own embedded PostgreSQL in a temporary directory (so this works as
root and as a normal user, with no system install). Each test gets a fresh database cloned from
a migrated template, so tests can commit freely and run concurrent transactions.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_postgresql.janitor import DatabaseJanitor
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL

from base import clock
from base.settings import Settings
from db import migrate
from db.embedded import EmbeddedPostgres
from tasks.runtime import Runtime, install_runtime
from tests.prefect_server import PrefectTestServer

TEMPLATE_DB = "sdb_template"
# Early January: a window of the last few days crosses a month and a year end.
PINNED_NOW = datetime(2027, 1, 2, 12, 30, tzinfo=UTC)
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="sdb-test-prefect-"))


PREFECT_SERVER = pytest.StashKey[PrefectTestServer]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first, so that a worker starts each of them at once and the others
    fill the time beside it, rather than a long one starting last and running alone."""
    items.sort(key=lambda item: item.get_closest_marker("longest") is None)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start this process's Prefect server now if any collected test will need it."""
    if any("prefect_api" in getattr(item, "fixturenames", ()) for item in session.items):
        session.config.stash[PREFECT_SERVER] = PrefectTestServer()


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(PREFECT_SERVER, None)
    if server is not None:
        server.stop()


@pytest.fixture(scope="session")
def prefect_api(pytestconfig: pytest.Config) -> Iterator[str]:
    """A real Prefect API server (temporary SQLite state) for the whole session, installed as
    Prefect's settings here and in threads that have none of their own (as Prefect's test
    harness does)."""
    from prefect.context import _temporary_global_settings_context, get_settings_context
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_SERVER not in pytestconfig.stash:  # not seen at collection
        pytestconfig.stash[PREFECT_SERVER] = PrefectTestServer()
    server = pytestconfig.stash[PREFECT_SERVER]
    api_url = server.wait_until_healthy(timeout_seconds=120)
    with temporary_settings(updates={PREFECT_API_URL: api_url}), \
            _temporary_global_settings_context(get_settings_context()):
        yield api_url
        _drain_prefect_workers()


def _drain_prefect_workers() -> None:
    """Send the logs and events still queued before the server stops."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all()
    EventsWorker.drain_all()


@pytest.fixture
def pinned_clock() -> Iterator[datetime]:
    """The product's clock held at PINNED_NOW, so "today" cannot change under a test."""
    with clock.frozen_at(PINNED_NOW) as instant:
        yield instant


@contextmanager
def throwaway_postgres(prefix: str) -> Iterator[EmbeddedPostgres]:
    """A started embedded PostgreSQL in a new temporary directory (one the unprivileged
    server user can reach when run as root), removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    server = EmbeddedPostgres(root, durable=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[EmbeddedPostgres]:
    with throwaway_postgres("sdb-test-pg-") as server:
        yield server


def _janitor(server: EmbeddedPostgres, dbname: str, template: str | None = None) -> DatabaseJanitor:
    return DatabaseJanitor(
        user="sdb",
        host="127.0.0.1",
        port=server.port,
        dbname=dbname,
        password=server.password,
        template_dbname=template,
    )


@pytest.fixture(scope="session")
def template_database(pg_server: EmbeddedPostgres) -> str:
    """A database at the migrations' head, cloned for every test."""
    _janitor(pg_server, TEMPLATE_DB).init()
    engine = create_engine(pg_server.url(TEMPLATE_DB))
    migrate.upgrade(engine)
    engine.dispose()
    return TEMPLATE_DB


@pytest.fixture
def empty_database_url(pg_server: EmbeddedPostgres) -> Iterator[URL]:
    """A brand-new database with no schema, for migration tests."""
    name = f"empty_{uuid.uuid4().hex[:12]}"
    janitor = _janitor(pg_server, name)
    janitor.init()
    yield pg_server.url(name)
    janitor.drop()


@pytest.fixture
def database_url(pg_server: EmbeddedPostgres, template_database: str) -> Iterator[URL]:
    """A migrated database of this test's own."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    janitor = _janitor(pg_server, name, template=template_database)
    janitor.init()
    yield pg_server.url(name)
    janitor.drop()


@pytest.fixture
def engine(database_url: URL) -> Iterator[Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


class ConfiguredRuntime:
    """The product's runtime for one test: settings built from these values (the environment
    variables' names), installed for the code the test calls; the process environment is
    left alone. `env()` gives the same values to a subprocess."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = dict(values)
        self.runtime: Runtime | None = None

    def set(self, **values: str | None) -> Runtime:
        """Change settings as a deployment would (`set(API_TOKEN="x")`; None unsets one)."""
        for name, value in values.items():
            if value is None:
                self.values.pop(name, None)
            else:
                self.values[name] = value
        previous, self.runtime = self.runtime, Runtime(Settings.from_values(self.values))
        install_runtime(self.runtime)
        if previous is not None:
            previous.close()
        return self.runtime

    @property
    def settings(self) -> Settings:
        assert self.runtime is not None
        return self.runtime.settings

    def env(self) -> dict[str, str]:
        return {**os.environ, **self.values}

    def close(self) -> None:
        install_runtime(None)
        if self.runtime is not None:
            self.runtime.close()


@pytest.fixture
def runtime(database_url: URL, tmp_path: Path) -> Iterator[ConfiguredRuntime]:
    """The product's settings pointed at this test's database and a private data directory."""
    configured = ConfiguredRuntime({
        "DATABASE_URL": database_url.render_as_string(hide_password=False),
        "SDB_DATA_DIR": str(tmp_path / "data")})
    configured.set()
    yield configured
    configured.close()
