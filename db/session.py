"""How the product reaches its database (the run context, `tasks/context.py`, holds the engine).

The URL is `DATABASE_URL`, else the embedded cluster in the data directory (started on demand).
Connection problems become `DatabaseError` with one line that says what to do.
"""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from base.errors import DatabaseError
from base.settings import Settings
from base.storable import json_for_postgres
from db.embedded import EmbeddedPostgres


def embedded_server(settings: Settings) -> EmbeddedPostgres:
    """The embedded cluster that lives in the configured data directory."""
    return EmbeddedPostgres(settings.data_dir / "postgres")


def resolve_database_url(settings: Settings) -> URL:
    """`DATABASE_URL` if set (driver forced to psycopg2), else the running embedded cluster."""
    if settings.database_url is None:
        return embedded_server(settings).start()
    url = make_url(settings.database_url.get_secret_value())
    return url.set(drivername="postgresql+psycopg2")


def masked(url: URL) -> str:
    """The URL with its password hidden, for printing."""
    return url.render_as_string(hide_password=True)


def connect_engine(url: URL) -> Engine:
    """An engine whose first connection is checked, failing with one clear line."""
    engine = create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10},
                           json_serializer=json_for_postgres)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "unknown error"
        raise DatabaseError(
            f"cannot connect to {masked(url)}: {reason}; "
            "check DATABASE_URL and that the server is up"
        ) from None
    return engine
