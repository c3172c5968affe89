"""Migration 0009 names the project of every earlier run and leaves its repository unknown."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from db import migrate


def test_old_runs_get_their_project_from_the_key_and_no_guessed_repository(
    empty_database_url: URL,
) -> None:
    engine = create_engine(empty_database_url)
    try:
        migrate.upgrade(engine, "0008")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO issue_processing_history (issue_key, status) VALUES "
                              "('MAT-1', 'completed'), ('OPS_2-17', 'failed')"))
        migrate.upgrade(engine)
        with engine.begin() as conn:
            rows = conn.execute(text("SELECT issue_key, project_key, repository FROM "
                                     "issue_processing_history ORDER BY id")).all()
            assert [tuple(r) for r in rows] == [("MAT-1", "MAT", None), ("OPS_2-17", "OPS_2", None)]
            conn.execute(text("INSERT INTO issue_processing_history (issue_key, status, "
                              "repository) VALUES ('HR-5', 'queued', 'acme/hr')"))
            new = conn.execute(text("SELECT project_key, repository FROM "
                                    "issue_processing_history WHERE issue_key = 'HR-5'")).one()
            assert tuple(new) == ("HR", "acme/hr")
        migrate.downgrade(engine, "0008")
        migrate.upgrade(engine)
    finally:
        engine.dispose()
