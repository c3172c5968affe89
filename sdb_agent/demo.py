"""`make demo`: bring up the embedded database with the migrated schema and say so."""

from __future__ import annotations

from collections.abc import Callable

from db import migrate
from db.session import get_engine, masked, resolve_database_url
from sdb_agent.settings import get_settings


def run_demo(*, echo: Callable[[str], None]) -> None:
    settings = get_settings()
    url = resolve_database_url(settings)
    source = "DATABASE_URL" if settings.database_url else f"embedded, in {settings.data_dir}/"
    echo(f"database: {masked(url)} ({source})")
    engine = get_engine()
    before = migrate.current_revision(engine)
    migrate.upgrade(engine)
    echo(f"schema: {before or 'empty'} -> {migrate.current_revision(engine)}")
