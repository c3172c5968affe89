"""Wiring: the configured git host and LLM client built from settings; a missing setting is a
`ConfigError` by name. It sits above the clients and the recorder, which know nothing of each
other."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path

import openai
import requests.auth
from sqlalchemy import Engine

from base.errors import ConfigError
from base.pricing import PriceTable
from base.recording import ApiRecorder, LlmRecorder
from base.settings import Settings
from db.llm_cache import PostgresResponseCache
from integrations.bitbucket import BitbucketClient
from integrations.bitbucket_http import BearerAuth
from integrations.git_host import GitHost
from integrations.http_transport import SessionTransport
from integrations.llm.client import LlmClient, SpendGuard
from integrations.local_git import LocalGitHost

SHARED_POOL_CONNECTIONS = 64  # MAX_FILE_CONCURRENCY's ceiling: concurrent reads never wait


def build_git_host(settings: Settings, recorder: ApiRecorder) -> GitHost:
    if settings.git_provider == "local":
        if settings.local_repo_path is None:
            raise ConfigError("LOCAL_REPO_PATH must be set when GIT_PROVIDER=local")
        return LocalGitHost(settings.local_repo_path, recorder=recorder)
    workspace, repository = settings.bitbucket_workspace, settings.bitbucket_repository
    if not workspace or not repository:
        raise ConfigError("BITBUCKET_WORKSPACE and BITBUCKET_REPOSITORY must be set "
                          "when GIT_PROVIDER=bitbucket")
    return BitbucketClient(api_url=settings.bitbucket_api_url, workspace=workspace,
                           repository=repository, auth=bitbucket_auth(settings),
                           recorder=recorder,
                           transport=_bitbucket_transport(settings.bitbucket_api_url))


@lru_cache(maxsize=8)
def _bitbucket_transport(api_url: str) -> SessionTransport:
    """One connection pool per git host, shared by every task of the process: a client is
    built per task, and a pool of its own would open (and for HTTPS, handshake) its
    connections again each time."""
    return SessionTransport(pool_size=SHARED_POOL_CONNECTIONS)


def bitbucket_auth(settings: Settings) -> requests.auth.AuthBase | tuple[str, str]:
    """Bearer access token if set, else Basic with the Atlassian account email and an API
    token: Bitbucket refuses a username there with 401 (support.atlassian.com/bitbucket-cloud/
    docs/using-api-tokens/), and app passwords, which took one, ended on 2026-06-09."""
    if settings.bitbucket_access_token is not None:
        return BearerAuth(settings.bitbucket_access_token.get_secret_value())
    email = (settings.bitbucket_email or "").strip()
    if email and settings.bitbucket_api_token is not None:
        if "@" not in email:
            raise ConfigError(f"BITBUCKET_EMAIL is {email!r}: an API token's Basic-auth user "
                              "name is the Atlassian account email, not the Bitbucket username")
        return (email, settings.bitbucket_api_token.get_secret_value())
    raise ConfigError("set BITBUCKET_ACCESS_TOKEN, or BITBUCKET_EMAIL (the Atlassian account "
                      "email) and BITBUCKET_API_TOKEN")


@lru_cache(maxsize=8)
def _sdk(api_key: str, base_url: str | None, max_retries: int, timeout: float) -> openai.OpenAI:
    """One SDK client (and its connection pool) per configuration, shared by every task."""
    return openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=max_retries,
                         timeout=timeout)


@lru_cache(maxsize=4)
def _prices(pricing_file: Path | None) -> PriceTable:
    """The bundled price table with `PRICING_FILE` over it, read once per file."""
    return PriceTable.load(pricing_file)


def price_table(settings: Settings) -> PriceTable:
    return _prices(settings.pricing_file)


def build_llm_client(settings: Settings, recorder: LlmRecorder, engine: Engine | None,
                     guard: SpendGuard | None = None, cap_completion: bool = False) -> LlmClient:
    """The LLM client; `engine` enables the PostgreSQL response cache, `guard` keeps the
    budgets, and `cap_completion` (a budget is in force) caps every answer at the completion
    allowance that its reservation counted."""
    if settings.openai_api_key is None:
        raise ConfigError("OPENAI_API_KEY must be set (any value for a local server)")
    sdk = _sdk(settings.openai_api_key.get_secret_value(), settings.openai_base_url or None,
               settings.llm_max_retries, settings.llm_timeout_seconds)
    cache = None
    if engine is not None and settings.llm_cache_ttl_hours > 0:
        cache = PostgresResponseCache(engine, ttl=timedelta(hours=settings.llm_cache_ttl_hours))
    return LlmClient(sdk=sdk, model=settings.llm_model, prices=_prices(settings.pricing_file),
                     recorder=recorder, cache=cache,
                     reasoning_effort=settings.llm_reasoning_effort,
                     completion_allowance=settings.llm_max_completion_tokens,
                     cap_completion=cap_completion, guard=guard)
