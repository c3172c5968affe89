"""The one settings object, read from the environment and from `.env`.

Names are a contract (DESIGN.md): they stay. Secrets are `SecretStr` so they never print.
Invalid values fail at start-up with `ConfigError`, whose message names the variable.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from sdb_agent.errors import ConfigError


class Settings(BaseSettings):
    """Every setting of the product; unknown `SDB_*`-free names in `.env` are ignored."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    database_url: SecretStr | None = None
    data_dir: Path = Field(default=Path(".data"), validation_alias="SDB_DATA_DIR")

    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_max_retries: int = Field(default=3, ge=0, le=10)
    llm_timeout_seconds: float = Field(default=120.0, gt=0)
    llm_cache_ttl_hours: int = Field(default=168, ge=0)

    git_provider: Literal["bitbucket", "local"] = "local"
    local_repo_path: Path | None = None
    bitbucket_api_url: str = "https://api.bitbucket.org/2.0"
    bitbucket_workspace: str | None = None
    bitbucket_repository: str | None = None
    bitbucket_access_token: SecretStr | None = None
    bitbucket_username: str | None = None
    bitbucket_api_token: SecretStr | None = None

    targets_file: Path | None = None

    jira_webhook_secret: SecretStr | None = None
    jira_base_url: str | None = None
    jira_email: str | None = None
    jira_api_token: SecretStr | None = None

    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: bool = True
    report_email_from: str | None = None
    report_email_to: str | None = None

    backup_dir: Path | None = None
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=1, le=65535)
    api_token: SecretStr | None = None

    @field_validator("database_url")
    @classmethod
    def _database_url_is_postgresql(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        try:
            url = make_url(value.get_secret_value())
        except ArgumentError:
            raise ValueError("is not a URL; expected postgresql://user:pass@host:5432/db") from None
        if url.get_backend_name() != "postgresql":
            raise ValueError(f"must be a postgresql:// URL, not {url.get_backend_name()}://")
        if not url.database:
            raise ValueError("names no database; expected postgresql://user:pass@host:5432/db")
        return value

    @field_validator("jira_webhook_secret")
    @classmethod
    def _webhook_secret_not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("is set but empty; unset it or give a real secret")
        return value

    @property
    def report_recipients(self) -> list[str]:
        """`REPORT_EMAIL_TO` split on commas."""
        return [part.strip() for part in (self.report_email_to or "").split(",") if part.strip()]

    @property
    def resolved_backup_dir(self) -> Path:
        """`BACKUP_DIR`, else `backups/` inside the data directory."""
        return self.backup_dir or self.data_dir / "backups"


def load_settings() -> Settings:
    """Build settings, turning pydantic's report into one line per bad variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            problems.append(f"{name}: {error['msg'].removeprefix('Value error, ')}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, loaded once."""
    return load_settings()
