"""Schema migrations driven from code (the CLI and the tests), on one connection.

Also refuses to run against a database whose revision this code does not know (it was
migrated by a newer sdb-agent), since writing to it could corrupt history.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine

from base.errors import DatabaseError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_checked: weakref.WeakSet[Engine] = weakref.WeakSet()


def alembic_config() -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "migrations/versions holds no revision"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_revision_known(engine: Engine) -> str | None:
    """The database's revision, or DatabaseError if it is newer than this code knows."""
    current = current_revision(engine)
    script = ScriptDirectory.from_config(alembic_config())
    if current is not None and not _known(script, current):
        raise DatabaseError(
            f"the database is at migration {current}, which this sdb-agent does not know "
            f"(its newest is {head_revision()}): upgrade sdb-agent, or use the matching version"
        )
    return current


def _known(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`; already at it is a no-op."""
    check_revision_known(engine)
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    check_revision_known(engine)
    _run(engine, command.downgrade, revision)


def require_current_schema(engine: Engine) -> None:
    """Stop with a clear line unless the database is exactly at this code's head.

    Checked once per engine: the schema does not move under a running process."""
    if engine in _checked:
        return
    current = check_revision_known(engine)
    if current != head_revision():
        raise DatabaseError(
            f"the database schema is at {current or 'nothing'}, not {head_revision()}: "
            "run 'sdb-agent db upgrade'"
        )
    _checked.add(engine)


def _run(engine: Engine, action: Callable[[Config, str], None], revision: str) -> None:
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        action(config, revision)
