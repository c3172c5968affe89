"""Fixtures for the maintenance tests: the product configured on this test's database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.conftest import ConfiguredRuntime


@pytest.fixture
def maintenance_env(
    runtime: ConfiguredRuntime, engine: Engine, prefect_api: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Path]:
    """Settings on this test's database, a private BACKUP_DIR, the real Prefect API."""
    backup_dir = tmp_path / "backups"
    unset = ("SMTP_HOST", "REPORT_EMAIL_FROM", "REPORT_EMAIL_TO", "COST_BUDGET_DAILY_USD")
    for name in unset:
        monkeypatch.delenv(name, raising=False)
    runtime.set(BACKUP_DIR=str(backup_dir), **dict.fromkeys(unset))
    yield backup_dir
