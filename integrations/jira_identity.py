"""Who the agent is in Jira, so that its own comments and transitions are never read as a
person's (the agent must not talk to itself).

`JIRA_ACCOUNT_ID` when set; else GET /rest/api/{3|2}/myself, once per process and site: Cloud
answers the `accountId`, Data Center the `name` and `key` ("Get current user",
developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-myself/; Data Center REST v2
`/myself`). Without Jira credentials the agent writes nothing to Jira, so nothing is its own.
"""

from __future__ import annotations

import threading

import requests

from base.errors import ConfigError, InvalidResponse, PermanentError, TransientError
from base.settings import Settings
from integrations.jira import account_ids
from integrations.jira_site import JiraSite, jira_site

MAX_MYSELF_BYTES = 64 * 1024
_known: dict[JiraSite, frozenset[str]] = {}
_lock = threading.Lock()


def configured_site(settings: Settings) -> JiraSite | None:
    """The Jira site when its URL and credentials are set, else None."""
    try:
        return jira_site(settings)
    except ConfigError:
        return None


def agent_ids(settings: Settings, *, timeout: float = 10.0) -> frozenset[str]:
    """The agent's ids in Jira (empty when unknowable). Jira's failure to answer is a
    TransientError or PermanentError: the caller must not guess who wrote an event."""
    if settings.jira_account_id:
        return frozenset({settings.jira_account_id})
    site = configured_site(settings)
    if site is None:
        return frozenset()
    with _lock:
        known = _known.get(site)
    if known is None:
        known = _myself(site, timeout)
        with _lock:
            _known[site] = known
    return known


def _myself(site: JiraSite, timeout: float) -> frozenset[str]:
    url = f"{site.base_url.rstrip('/')}/rest/api/{site.api_version}/myself"
    try:
        response = requests.get(url, auth=site.basic_auth(), timeout=timeout,
                                headers={"Accept": "application/json", **site.auth_headers()})
    except requests.RequestException as exc:
        raise TransientError(f"Jira unreachable at /myself (who the agent is): "
                             f"{type(exc).__name__}") from None
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientError(f"Jira answered {response.status_code} to /myself")
    if response.status_code != 200:
        raise PermanentError(f"Jira answered {response.status_code} to /myself; check the Jira "
                             "credentials or set JIRA_ACCOUNT_ID")
    if len(response.content) > MAX_MYSELF_BYTES:
        raise InvalidResponse(f"Jira's /myself answer is over {MAX_MYSELF_BYTES} bytes")
    try:
        ids = account_ids(response.json(), "myself")
    except ValueError:
        raise InvalidResponse("Jira answered non-JSON to /myself") from None
    if not ids:
        raise InvalidResponse("Jira's /myself answer names no accountId, key or name")
    return ids
