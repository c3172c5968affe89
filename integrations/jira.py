"""Jira issues: parse a webhook payload or a REST issue, or fetch one by key (REST v3).

The description may be a wiki string (REST v2) or an ADF document (REST v3); both become
plain text. The raw payload is kept for `issue_data`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import requests

from integrations.adf import adf_to_text
from integrations.errors import InvalidResponse, NotFound, PermanentError, TransientError

ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,49}-[1-9][0-9]{0,9}$")
MAX_ISSUE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Issue:
    key: str
    summary: str
    description: str
    issue_type: str | None = None
    labels: tuple[str, ...] = ()
    project: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def parse_issue(payload: Any) -> Issue:
    """An `Issue` from a webhook body (`{"issue": {...}}`) or a REST issue (`{"key": ...}`)."""
    if not isinstance(payload, dict):
        raise InvalidResponse("the issue payload is not a JSON object")
    issue = payload.get("issue", payload)
    if not isinstance(issue, dict):
        raise InvalidResponse("'issue' is not a JSON object")
    key = issue.get("key")
    if not isinstance(key, str) or not ISSUE_KEY.match(key):
        raise InvalidResponse(f"missing or malformed issue key: {str(key)[:60]!r}")
    fields = issue.get("fields") if isinstance(issue.get("fields"), dict) else {}
    assert isinstance(fields, dict)
    description = fields.get("description")
    text = adf_to_text(description) if isinstance(description, dict) else str(description or "")
    labels = fields.get("labels") if isinstance(fields.get("labels"), list) else []
    project = fields.get("project") if isinstance(fields.get("project"), dict) else {}
    issue_type = fields.get("issuetype") if isinstance(fields.get("issuetype"), dict) else {}
    return Issue(
        key=key, summary=str(fields.get("summary") or "").strip(), description=text.strip(),
        issue_type=(issue_type or {}).get("name"),
        labels=tuple(str(label) for label in labels or []),
        project=(project or {}).get("key") or key.split("-")[0], raw=payload)


def fetch_issue(*, base_url: str, email: str, api_token: str, key: str,
                timeout: float = 15.0) -> Issue:
    """GET /rest/api/3/issue/{key}, with Basic auth (email + API token)."""
    if not ISSUE_KEY.match(key):
        raise PermanentError(f"malformed issue key {key!r}")
    url = f"{base_url.rstrip('/')}/rest/api/3/issue/{key}"
    try:
        response = requests.get(url, auth=(email, api_token), timeout=timeout,
                                headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise TransientError(f"Jira unreachable: {type(exc).__name__}") from None
    if response.status_code == 404:
        raise NotFound(f"Jira has no issue {key} (or the account may not see it)")
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientError(f"Jira answered {response.status_code} for {key}")
    if response.status_code != 200:
        raise PermanentError(f"Jira answered {response.status_code} for {key}")
    if len(response.content) > MAX_ISSUE_BYTES:
        raise InvalidResponse(f"Jira's answer for {key} is over {MAX_ISSUE_BYTES} bytes")
    try:
        return parse_issue(response.json())
    except ValueError:
        raise InvalidResponse(f"Jira answered non-JSON for {key}") from None
