"""The offline agent setup for the flow tests."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import URL

from standins.bitbucket import BitbucketEmulator
from standins.openai_server import OpenAIStandin
from tests.conftest import ConfiguredRuntime
from tests.flows.agent import TOKEN, Agent, demo_issue, sample_files, write_targets


@pytest.fixture
def agent(
    tmp_path: Path, database_url: URL, prefect_api: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Agent]:
    repo = BitbucketEmulator.create_repository(tmp_path / "repo.git", sample_files())
    targets = write_targets(tmp_path / "targets.yaml")
    with (
        BitbucketEmulator(repo, "acme", "materials", access_token=TOKEN) as bitbucket,
        OpenAIStandin() as llm,
    ):
        env = {
            "DATABASE_URL": database_url.render_as_string(hide_password=False),
            "SDB_DATA_DIR": str(tmp_path / "data"),
            "GIT_PROVIDER": "bitbucket",
            "BITBUCKET_API_URL": bitbucket.base_url,
            "BITBUCKET_WORKSPACE": "acme",
            "BITBUCKET_REPOSITORY": "materials",
            "BITBUCKET_ACCESS_TOKEN": TOKEN,
            "OPENAI_BASE_URL": llm.base_url,
            "OPENAI_API_KEY": "sk-test-key-456",
            "LLM_MAX_RETRIES": "0",
            "TARGETS_FILE": str(targets),
            "RUN_LEASE_SECONDS": "2",
            "CONCURRENCY_LIMITS": "false",
            "PREFECT_API_URL": prefect_api,  # Prefect's own: for the agent's subprocesses
        }
        # Prefect's own setting is read from the environment by its client and by the runner
        # (which makes it process-wide); ours come from the installed runtime
        monkeypatch.setenv("PREFECT_API_URL", prefect_api)
        runtime = ConfiguredRuntime(env)
        runtime.set()
        engine = create_engine(database_url)
        yield Agent(bitbucket, llm, engine, runtime, targets, copy.deepcopy(demo_issue()))
        engine.dispose()
        runtime.close()
