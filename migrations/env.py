"""Alembic environment: the URL comes from the product's settings, never from alembic.ini."""

from __future__ import annotations

import re
from typing import Any

from alembic import context
from sqlalchemy import create_engine

from base.settings import load_settings
from db.models import PARTITIONED_TABLES, Base
from db.session import resolve_database_url

_PARTITION_CHILD = re.compile(rf"^({'|'.join(PARTITIONED_TABLES)})_(y\d{{4}}m\d{{2}}|default)$")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Monthly partitions are managed by db/partitions.py, not by the models."""
    if type_ == "table" and name and _PARTITION_CHILD.match(name):
        return False
    if type_ == "index" and reflected and compare_to is None and name:
        table = getattr(obj, "table", None)
        if table is not None and _PARTITION_CHILD.match(table.name):
            return False
    return True


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        engine = create_engine(resolve_database_url(load_settings()))  # the `alembic` command
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connection)


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_object,
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
