"""Running stand-ins for the tests of this folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from standins.bitbucket import BitbucketEmulator

TOKEN = "bb-access-token"
SEED = {
    "README.md": b"# Demo\n",
    "src/app.py": b"print('hello')\r\n",
    "docs/guide.txt": b"guide\n",
}


@pytest.fixture
def bitbucket(tmp_path: Path) -> Iterator[BitbucketEmulator]:
    repo = BitbucketEmulator.create_repository(tmp_path / "repo.git", SEED)
    with BitbucketEmulator(
        repo, "acme", "shop", access_token=TOKEN, username="bot@example.com", api_token="bot-secret"
    ) as emulator:
        yield emulator


@pytest.fixture
def bb_session() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {TOKEN}"
        yield session
