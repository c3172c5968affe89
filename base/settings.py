"""The one settings object, read from the environment and from `.env`.

Names are a contract (DESIGN.md): they stay. Secrets are `SecretStr` so they never print.
Invalid values fail at start-up with `ConfigError`, whose message names the variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time
from ipaddress import ip_address
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from base.errors import ConfigError
from base.pricing import PriceFileError, PriceTable, read_price_file


def _postgresql_url(value: SecretStr | None, *, driver: str | None,
                    example: str) -> SecretStr | None:
    """Unset when empty; else a URL of a PostgreSQL database (through `driver` when given)."""
    if value is None or not value.get_secret_value():
        return None
    try:
        url = make_url(value.get_secret_value())
    except ArgumentError:
        raise ValueError(f"is not a URL; expected {example}") from None
    if url.get_backend_name() != "postgresql" or (driver and url.drivername != driver):
        scheme = example.split("//")[0]
        raise ValueError(f"must be a {scheme}// URL, not {url.drivername}://")
    if not url.database:
        raise ValueError(f"names no database; expected {example}")
    if url.host and "@" in url.host:  # an unescaped @ in the password: the rest reads as host
        raise ValueError("has an '@' after the user part; write an '@' in the password as %40")
    return value


# openai-python's `types/shared/reasoning_effort.py` (the locked SDK; a test keeps them equal)
ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
_HOSTNAME = re.compile(r"(?=.{1,253}\Z)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+")
_BRANCH_PREFIX = re.compile(r"([A-Za-z0-9_][A-Za-z0-9._-]*/?)*")


SECRET_FIELDS = ("openai_api_key", "bitbucket_access_token", "bitbucket_api_token",
                  "jira_webhook_secret", "jira_webhook_token", "jira_api_token",
                  "jira_personal_access_token", "bitbucket_webhook_secret",
                  "smtp_password", "api_token", "local_prefect_database_url", "database_url",
                  "alert_webhook_url")


class Settings(BaseSettings):
    """Every setting of the product; names it does not know in `.env` are ignored."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    database_url: SecretStr | None = None
    data_dir: Path = Field(default=Path(".data"), validation_alias="SDB_DATA_DIR")

    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    llm_model: str = Field(default="gpt-4o-mini", min_length=1, max_length=100)
    llm_max_retries: int = Field(default=3, ge=0, le=10)
    llm_timeout_seconds: float = Field(default=120.0, gt=0)
    llm_cache_ttl_hours: int = Field(default=168, ge=0)
    llm_reasoning_effort: ReasoningEffort | None = None
    pricing_file: Path | None = None

    git_provider: Literal["bitbucket", "local"] = "local"
    local_repo_path: Path | None = None
    bitbucket_api_url: str = "https://api.bitbucket.org/2.0"
    bitbucket_workspace: str | None = None
    bitbucket_repository: str | None = None
    bitbucket_access_token: SecretStr | None = None
    # Basic auth with an API token takes the Atlassian account email as its user name
    # (support.atlassian.com/bitbucket-cloud/docs/using-api-tokens/); BITBUCKET_USERNAME,
    # the name this setting had, is still read.
    bitbucket_email: str | None = Field(
        default=None, validation_alias=AliasChoices("bitbucket_email", "bitbucket_username"))
    bitbucket_api_token: SecretStr | None = None

    targets_file: Path | None = None
    projects_file: Path | None = None  # routes projects to repositories (base/projects.py)
    base_branch: str | None = None  # unset: the repository's main branch
    max_file_concurrency: int = Field(default=8, ge=1, le=64)
    edit_attempts: int = Field(default=3, ge=1, le=10)
    prompt_token_budget: int = Field(default=12_000, ge=500)
    run_lease_seconds: int = Field(default=300, ge=2)
    branch_prefix: str = "sdb/"
    commit_author: str = "sdb-agent <sdb-agent@localhost>"

    jira_webhook_secret: SecretStr | None = None
    jira_base_url: str | None = None
    jira_email: str | None = None
    jira_api_token: SecretStr | None = None
    jira_personal_access_token: SecretStr | None = None  # set: Jira Data Center, REST v2

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

    # serving (deployments/; README "Running as a service")
    local_prefect_database_url: SecretStr | None = None
    jira_webhook_token: SecretStr | None = None
    jira_webhook_token_header: str = "X-Automation-Webhook-Token"
    webhook_allow_unauthenticated: bool = False
    webhook_events: str = "jira:issue_created,jira:issue_updated"
    webhook_projects: str = ""
    webhook_issue_types: str = ""
    webhook_trigger_label: str | None = None
    webhook_max_bytes: int = Field(default=1_048_576, ge=1024)
    webhook_read_seconds: float = Field(default=10.0, gt=0, le=120)
    webhook_handoff_seconds: float = Field(default=10.0, gt=0, le=120)
    max_concurrent_runs: int = Field(default=4, ge=1)
    serve_runner: bool = True
    concurrency_limits: bool = True
    llm_concurrency: int = Field(default=8, ge=1)
    bitbucket_requests_per_hour: int = Field(default=1000, ge=1)

    # working with the team (README "Working with the team")
    jira_feedback: Literal["comment", "off"] = "comment"
    jira_transition_on_pr: str | None = None
    jira_transition_on_failure: str | None = None
    jira_account_id: str | None = None  # the agent's Jira account; else asked of /myself
    agent_command_prefix: str = Field(default="/sdb", min_length=1, max_length=20)
    agent_mention: str = Field(default="@sdb-agent", min_length=2, max_length=60)
    bitbucket_webhook_secret: SecretStr | None = None
    reviewers_allowed: str = ""
    approval_mode: Literal["off", "spec"] = "off"
    approval_timeout_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    pr_draft: bool = False
    pr_reviewers: str = ""
    reviewer_map: Path | None = None

    # spend control (README "Spend control")
    llm_budget_per_run_usd: float | None = Field(default=None, gt=0)
    llm_budget_per_day_usd: float | None = Field(default=None, gt=0)
    llm_max_completion_tokens: int = Field(default=8192, ge=256, le=200_000)
    cost_alert_usd: float | None = Field(default=None, gt=0)
    alert_webhook_url: SecretStr | None = None  # a Slack webhook URL is itself a credential

    # maintenance (flows/maintenance.py; README "Maintenance")
    cost_budget_daily_usd: float | None = Field(default=None, gt=0)
    report_timezone: str = "UTC"
    report_time: str = "07:00"
    backup_keep_daily: int = Field(default=7, ge=1)
    backup_keep_weekly: int = Field(default=4, ge=0)
    history_retention_months: int = Field(default=12, ge=1)
    content_retention_days: int = Field(default=30, ge=1)
    webhook_retention_days: int = Field(default=90, ge=1)
    partition_premake_months: int = Field(default=3, ge=1, le=24)
    stale_run_minutes: int = Field(default=60, ge=1)

    @field_validator("report_timezone")
    @classmethod
    def _report_timezone_known(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; e.g. UTC or Asia/Seoul") from None
        return value

    @field_validator("report_time")
    @classmethod
    def _report_time_is_hh_mm(cls, value: str) -> str:
        try:
            time.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a time of day; expected HH:MM") from None
        return value

    @field_validator("cost_budget_daily_usd", "llm_reasoning_effort", "pricing_file",
                     "llm_budget_per_run_usd", "llm_budget_per_day_usd", "cost_alert_usd",
                     "projects_file", "base_branch",
                     "alert_webhook_url",
                     "jira_transition_on_pr", "jira_transition_on_failure", "jira_account_id",
                     "reviewer_map", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """compose's `${X:-}` passes "": unset (an empty path would read as `.`)."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("pricing_file")
    @classmethod
    def _pricing_file_loads(cls, value: Path | None) -> Path | None:
        """A bad price file stops the start, not the first LLM call."""
        if value is not None:
            try:
                read_price_file(value)
            except PriceFileError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url_is_postgresql(cls, value: SecretStr | None) -> SecretStr | None:
        return _postgresql_url(value, driver=None,
                               example="postgresql://user:pass@host:5432/db")

    @field_validator("local_prefect_database_url")
    @classmethod
    def _local_prefect_database_is_asyncpg(cls, value: SecretStr | None) -> SecretStr | None:
        """Prefect's server talks to PostgreSQL through asyncpg."""
        return _postgresql_url(value, driver="postgresql+asyncpg",
                               example="postgresql+asyncpg://user:pass@host/db")

    @field_validator("jira_webhook_secret", "bitbucket_webhook_secret")
    @classmethod
    def _webhook_secret_not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("is set but empty; unset it or give a real secret")
        return value

    @field_validator("jira_personal_access_token")
    @classmethod
    def _blank_pat_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        """compose's `${X:-}` passes "": that must not switch Jira to Data Center."""
        return value if value is not None and value.get_secret_value().strip() else None

    @field_validator("jira_webhook_token", "api_token")
    @classmethod
    def _token_not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        """An empty token (docker compose's `${X:-}`) would lock or open a door by accident."""
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("is set but empty; unset it or give a real token")
        return value

    @field_validator("alert_webhook_url")
    @classmethod
    def _alert_url_is_http(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parts = urlsplit(value.get_secret_value())
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("is not an http(s) URL with a host")  # the URL is a secret
        return value

    @model_validator(mode="after")
    def _budget_needs_a_price(self) -> Settings:
        """A budget cannot be kept for a model whose calls have no price."""
        if (self.llm_budget_per_run_usd or self.llm_budget_per_day_usd) and \
                PriceTable.load(self.pricing_file).price_of(self.llm_model) is None:
            raise ValueError(
                f"LLM_MODEL {self.llm_model} has no price, so a budget cannot be kept; "
                "price it in PRICING_FILE or unset LLM_BUDGET_PER_RUN_USD/LLM_BUDGET_PER_DAY_USD")
        return self

    @field_validator("openai_base_url", "bitbucket_api_url", "jira_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if not value:  # compose's `${X:-}`: unset
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value[:80]!r} is not an http(s) URL with a host")
        return value

    @field_validator("http_host")
    @classmethod
    def _listen_address(cls, value: str) -> str:
        try:
            ip_address(value)
        except ValueError:
            if not _HOSTNAME.fullmatch(value):
                raise ValueError(f"{value[:80]!r} is neither an IP address nor a host name"
                                 ) from None
        return value

    @field_validator("branch_prefix")
    @classmethod
    def _branch_prefix_is_a_ref_prefix(cls, value: str) -> str:
        """What `git check-ref-format` accepts at the start of a branch name, checked before
        any spend instead of at branch creation."""
        if not _BRANCH_PREFIX.fullmatch(value) or ".." in value or "//" in value or \
                "/." in value or ".lock/" in value:
            raise ValueError(f"{value[:60]!r} cannot start a git branch name; use letters, "
                             "digits, '.', '_', '-' and '/' (e.g. sdb/)")
        return value

    @staticmethod
    def _listed(value: str) -> frozenset[str]:
        return frozenset(part.strip() for part in value.split(",") if part.strip())

    @property
    def webhook_event_set(self) -> frozenset[str]:
        return self._listed(self.webhook_events)

    @property
    def webhook_project_set(self) -> frozenset[str]:
        return self._listed(self.webhook_projects)

    @property
    def webhook_issue_type_set(self) -> frozenset[str]:
        return self._listed(self.webhook_issue_types)

    @property
    def reviewers_allowed_set(self) -> frozenset[str]:
        """`REVIEWERS_ALLOWED` split on commas: Bitbucket account ids or nicknames."""
        return self._listed(self.reviewers_allowed)

    @property
    def pr_reviewer_list(self) -> list[str]:
        """`PR_REVIEWERS` split on commas: Bitbucket account UUIDs, in the order given."""
        return [part.strip() for part in self.pr_reviewers.split(",") if part.strip()]

    @property
    def report_recipients(self) -> list[str]:
        """`REPORT_EMAIL_TO` split on commas."""
        return [part.strip() for part in (self.report_email_to or "").split(",") if part.strip()]

    @classmethod
    def from_values(cls, values: Mapping[str, str]) -> Settings:
        """Settings from these values, named as the environment variables are, over the
        environment (no `.env` file): for code that configures the product itself."""
        return cls(_env_file=None, **values)  # type: ignore[call-arg, arg-type]

    def secret_values(self) -> list[str]:
        """The configured secret strings and the database passwords, for `redaction.install`."""
        values = []
        for name in SECRET_FIELDS:
            secret = getattr(self, name, None)
            if secret is not None and secret.get_secret_value():
                values.append(secret.get_secret_value())
        if self.alert_webhook_url is not None:  # urllib3's debug log prints only the path
            path = urlsplit(self.alert_webhook_url.get_secret_value()).path
            if len(path) > 1:
                values.append(path)
        for url in (self.database_url, self.local_prefect_database_url):
            if url is not None:
                password = make_url(url.get_secret_value()).password
                if password:
                    values.append(str(password))
        return values

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
