"""Fixtures for the maintenance tests: the product configured on this test's database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import URL


@pytest.fixture
def maintenance_env(
    configured_env: URL, engine: Engine, prefect_api: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Path]:
    """Settings on this test's database, a private BACKUP_DIR, the real Prefect API."""
    from base.settings import get_settings

    backup_dir = tmp_path / "backups"
    monkeypatch.setenv("BACKUP_DIR", str(backup_dir))
    for name in ("SMTP_HOST", "REPORT_EMAIL_FROM", "REPORT_EMAIL_TO", "COST_BUDGET_DAILY_USD"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield backup_dir
    get_settings.cache_clear()
