"""Stand-ins, an issue row and a real history recorder for the client tests of this folder.

The client tests share one migrated database (creating one per test would dominate their
run time); each test gets its own issue row, and reads back only the rows hung on it.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_postgresql.janitor import DatabaseJanitor
from sqlalchemy import Engine, create_engine, insert, select

from db.embedded import EmbeddedPostgres
from db.models import BitbucketApiHistory, IssueProcessingHistory, LlmCallHistory
from db.recorder import HistoryRecorder
from standins.bitbucket import BitbucketEmulator
from standins.openai_server import OpenAIStandin

BB_TOKEN = "bb-access-token"
BB_USER, BB_API_TOKEN = "bot@example.com", "bot-api-token"  # an API token takes the email
SEED_FILES = {
    "README.md": b"# Material DB\n",
    "src/MaterialDB.cpp": "// \uc7ac\ub8cc \ud14c\uc774\ube14\r\nint x;\r\n".encode("cp949"),
}


_ISSUE_NUMBERS = itertools.count(1)


def new_issue(engine: Engine) -> int:
    """A fresh issue row (keys differ: only one active run per key is allowed)."""
    with engine.begin() as conn:
        return int(conn.execute(
            insert(IssueProcessingHistory)
            .values(issue_key=f"MAT-{next(_ISSUE_NUMBERS)}", status="processing")
            .returning(IssueProcessingHistory.id)).scalar_one())


def llm_rows(recorder: HistoryRecorder) -> list[Any]:
    """The recorder's `llm_call_history` rows, oldest first."""
    with recorder.engine.connect() as conn:
        return list(conn.execute(select(LlmCallHistory)
                                 .where(LlmCallHistory.history_id == recorder.history_id)
                                 .order_by(LlmCallHistory.id)))


def api_rows(recorder: HistoryRecorder) -> list[Any]:
    """The recorder's `bitbucket_api_history` rows, oldest first."""
    with recorder.engine.connect() as conn:
        return list(conn.execute(select(BitbucketApiHistory)
                                 .where(BitbucketApiHistory.history_id == recorder.history_id)
                                 .order_by(BitbucketApiHistory.id)))


@pytest.fixture(scope="session")
def db(pg_server: EmbeddedPostgres, template_database: str) -> Iterator[Engine]:
    """One migrated database shared by the client tests."""
    name = f"clients_{uuid.uuid4().hex[:12]}"
    janitor = DatabaseJanitor(user="sdb", host="127.0.0.1", port=pg_server.port, dbname=name,
                              password=pg_server.password, template_dbname=template_database)
    janitor.init()
    engine = create_engine(pg_server.url(name))
    yield engine
    engine.dispose()
    janitor.drop()


@pytest.fixture
def history_id(db: Engine) -> int:
    return new_issue(db)


@pytest.fixture
def recorder(db: Engine, history_id: int) -> HistoryRecorder:
    return HistoryRecorder(db, history_id=history_id)


@pytest.fixture
def llm() -> Iterator[OpenAIStandin]:
    with OpenAIStandin() as server:
        yield server


@pytest.fixture
def bitbucket(tmp_path: Path) -> Iterator[BitbucketEmulator]:
    repo = BitbucketEmulator.create_repository(tmp_path / "repo.git", SEED_FILES)
    with BitbucketEmulator(repo, "acme", "shop", access_token=BB_TOKEN, username=BB_USER,
                           api_token=BB_API_TOKEN) as emulator:
        yield emulator
