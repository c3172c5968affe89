"""Which Jira the agent reads issues from, and how it signs in there.

Jira Cloud has REST v3 (descriptions as ADF) and takes an Atlassian account email with an
API token as Basic auth; a Bearer header there is for OAuth 2.0 apps only (Atlassian,
"Basic auth for REST APIs", developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/).
Jira Data Center has REST v2 only (descriptions as wiki markup) and takes a personal access
token as `Authorization: Bearer` (Atlassian, "Using Personal Access Tokens",
confluence.atlassian.com/enterprise/using-personal-access-tokens-1026032365.html).
Setting `JIRA_PERSONAL_ACCESS_TOKEN` chooses Data Center.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import SecretStr

from base.errors import ConfigError
from base.settings import Settings


@dataclass(frozen=True)
class JiraCloud:
    base_url: str
    email: str
    api_token: str = field(repr=False)
    api_version = "3"

    def auth_headers(self) -> dict[str, str]:
        return {}

    def basic_auth(self) -> tuple[str, str] | None:
        return (self.email, self.api_token)


@dataclass(frozen=True)
class JiraDataCenter:
    base_url: str
    personal_access_token: str = field(repr=False)
    api_version = "2"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.personal_access_token}"}

    def basic_auth(self) -> tuple[str, str] | None:
        return None


JiraSite = JiraCloud | JiraDataCenter


def jira_site(settings: Settings) -> JiraSite:
    """The configured site; a missing or contradictory setting is a ConfigError by name."""
    pat, email = _given(settings.jira_personal_access_token), settings.jira_email
    token = _given(settings.jira_api_token)
    if not settings.jira_base_url:
        raise ConfigError("JIRA_BASE_URL is needed to fetch an issue by key; or pass the "
                          "issue JSON instead")
    if pat and (email or token):
        raise ConfigError("set JIRA_PERSONAL_ACCESS_TOKEN (Jira Data Center) or JIRA_EMAIL "
                          "and JIRA_API_TOKEN (Jira Cloud), not both")
    if pat:
        return JiraDataCenter(settings.jira_base_url, pat)
    if not (email and token):
        raise ConfigError("JIRA_EMAIL and JIRA_API_TOKEN (Jira Cloud) or "
                          "JIRA_PERSONAL_ACCESS_TOKEN (Jira Data Center) are needed to fetch "
                          "an issue by key; or pass the issue JSON instead")
    return JiraCloud(settings.jira_base_url, email, token)


def _given(secret: SecretStr | None) -> str:
    """The secret, or "" when unset or set empty (compose passes `${X:-}` as "")."""
    return secret.get_secret_value() if secret is not None else ""
