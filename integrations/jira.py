"""Jira issues: parse a webhook payload or a REST issue, or fetch one by key.

The description is wiki markup in REST v2 shapes (admin webhooks, Automation bodies, Jira
Data Center) and an ADF document in REST v3 (Jira Cloud); both become the same
Markdown-like text (`integrations.adf`, `integrations.wiki`), so the LLM reads what the
reporter formatted, not markup. The raw payload is kept for `issue_data`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

import requests
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from base.errors import InvalidResponse, NotFound, PermanentError, TransientError
from base.issue_keys import MAX_ISSUE_KEY, valid_issue_key
from base.storable import UnstorableInput, check_json, check_text
from integrations.adf import adf_to_text
from integrations.jira_site import JiraSite
from integrations.wiki import wiki_to_text

MAX_SUMMARY = 255  # Jira's own limit on a summary
MAX_ISSUE_BYTES = 5 * 1024 * 1024


def _storable(value: str) -> str:
    return check_text(value, "a text field")


Storable = Annotated[str, AfterValidator(_storable)]


class _Named(BaseModel):
    model_config = ConfigDict(extra="ignore")
    key: Annotated[Storable, Field(max_length=MAX_ISSUE_KEY)] | None = None
    name: Annotated[Storable, Field(max_length=255)] | None = None


class _Fields(BaseModel):
    """The issue fields the agent reads, typed as Jira's REST v2 and v3 issue bodies are."""

    model_config = ConfigDict(extra="ignore")
    summary: Annotated[Storable, Field(max_length=MAX_SUMMARY)] | None = None
    description: Storable | dict[str, Any] | None = None
    labels: list[Annotated[Storable, Field(max_length=255)]] | None = None
    project: _Named | None = None
    issuetype: _Named | None = None


class _IssueBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    key: str  # checked before validation, with the message Jira's users know
    fields: _Fields | None = None


@dataclass(frozen=True)
class Issue:
    key: str
    summary: str
    description: str
    issue_type: str | None = None
    labels: tuple[str, ...] = ()
    project: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def _first_error(exc: ValidationError) -> str:
    error = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "issue"
    return f"{where}: {error['msg']}"


def parse_issue(payload: Any) -> Issue:
    """An `Issue` from a webhook body (`{"issue": {...}}`) or a REST issue (`{"key": ...}`).

    Anything that is not the shape Jira sends (a field of the wrong type, a key that is not a
    key, text PostgreSQL cannot store) is InvalidResponse naming the field."""
    if not isinstance(payload, dict):
        raise InvalidResponse("the issue payload is not a JSON object")
    issue = payload.get("issue", payload)
    if not isinstance(issue, dict):
        raise InvalidResponse("'issue' is not a JSON object")
    key = issue.get("key")
    if not isinstance(key, str) or not valid_issue_key(key):
        raise InvalidResponse(f"missing or malformed issue key: {str(key)[:60]!r}")
    try:
        check_json(payload, "issue payload")
        body = _IssueBody.model_validate(issue)
    except UnstorableInput as exc:
        raise InvalidResponse(str(exc)) from None
    except ValidationError as exc:
        raise InvalidResponse(_first_error(exc)) from None
    fields = body.fields or _Fields()
    description = fields.description
    text = adf_to_text(description) if isinstance(description, dict) else wiki_to_text(
        description or "")
    return Issue(
        key=body.key, summary=(fields.summary or "").strip(), description=text.strip(),
        issue_type=fields.issuetype.name if fields.issuetype else None,
        labels=tuple(fields.labels or ()),
        project=(fields.project.key if fields.project else None) or body.key.split("-")[0],
        raw=payload)


def fetch_issue(site: JiraSite, key: str, *, timeout: float = 15.0) -> Issue:
    """GET /rest/api/{3 on Cloud, 2 on Data Center}/issue/{key}, signed in as the site says."""
    if not valid_issue_key(key):
        raise PermanentError(f"malformed issue key {key!r}")
    url = f"{site.base_url.rstrip('/')}/rest/api/{site.api_version}/issue/{key}"
    try:
        response = requests.get(url, auth=site.basic_auth(), timeout=timeout,
                                headers={"Accept": "application/json", **site.auth_headers()})
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
