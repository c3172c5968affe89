"""Jira issues: parse a webhook payload or a REST issue, or fetch one by key.

The description is wiki markup in REST v2 shapes (admin webhooks, Automation bodies, Jira
Data Center) and an ADF document in REST v3 (Jira Cloud); both become the same
Markdown-like text (`integrations.adf`, `integrations.wiki`), so the LLM reads what the
reporter formatted, not markup; comment bodies too. The raw payload is kept for `issue_data`.

Comments come in the REST issue's `fields.comment` (`{"comments": [...], "total", ...}`,
"Get issue", developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/), each
`{id, author, body, created}`; Cloud names a person by `accountId`, Data Center by `name` and
`key`. Jira's `jira:issue_*` webhooks carry no comments ("Deprecation notice - removal of
comment object data in jira:issue_* webhooks", developer.atlassian.com/cloud/jira/platform/),
so `Issue.comments_read` says whether the body had them at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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
# What of the comments reaches the prompt (and the spec hash): the newest 20 clarifications,
# each cut at 4,000 characters, so a long thread costs at most some 80,000 characters.
MAX_CLARIFICATIONS = 20
MAX_CLARIFICATION_CHARS = 4000


def _storable(value: str) -> str:
    return check_text(value, "a text field")


Storable = Annotated[str, AfterValidator(_storable)]


class _Named(BaseModel):
    model_config = ConfigDict(extra="ignore")
    key: Annotated[Storable, Field(max_length=MAX_ISSUE_KEY)] | None = None
    name: Annotated[Storable, Field(max_length=255)] | None = None


class _Account(BaseModel):
    """A person: `accountId` on Cloud, `name` and `key` on Data Center."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    account_id: Annotated[Storable, Field(max_length=128)] | None = Field(
        default=None, alias="accountId")
    key: Annotated[Storable, Field(max_length=255)] | None = None
    name: Annotated[Storable, Field(max_length=255)] | None = None

    def ids(self) -> frozenset[str]:
        return frozenset(i for i in (self.account_id, self.key, self.name) if i)


class _Comment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: Annotated[Storable, Field(max_length=64)] | int | None = None
    author: _Account | None = None
    body: Storable | dict[str, Any] | None = None
    created: Annotated[Storable, Field(max_length=64)] | None = None


class _CommentPage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    comments: list[_Comment] = Field(default_factory=list)


class _Fields(BaseModel):
    """The issue fields the agent reads, typed as Jira's REST v2 and v3 issue bodies are."""

    model_config = ConfigDict(extra="ignore")
    summary: Annotated[Storable, Field(max_length=MAX_SUMMARY)] | None = None
    description: Storable | dict[str, Any] | None = None
    labels: list[Annotated[Storable, Field(max_length=255)]] | None = None
    components: list[_Named] | None = None
    project: _Named | None = None
    issuetype: _Named | None = None
    comment: _CommentPage | None = None


class _IssueBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    key: str  # checked before validation, with the message Jira's users know
    fields: _Fields | None = None


@dataclass(frozen=True)
class Comment:
    """One comment as text; `author_ids` are every id Jira gave its author."""

    id: str
    author_ids: frozenset[str]
    text: str
    created: str


@dataclass(frozen=True)
class Issue:
    key: str
    summary: str
    description: str
    issue_type: str | None = None
    labels: tuple[str, ...] = ()
    project: str | None = None
    components: tuple[str, ...] = ()  # their names: a route may be narrowed by one
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    comments: tuple[Comment, ...] = ()
    comments_read: bool = False  # the body had `fields.comment` (a webhook body has not)
    clarifications: tuple[str, ...] = ()  # set by `clarified`: what the prompt and hash read


def _text(body: str | dict[str, Any] | None) -> str:
    """ADF (REST v3) or wiki markup (REST v2, webhooks) as the same Markdown-like text."""
    return (adf_to_text(body) if isinstance(body, dict) else wiki_to_text(body or "")).strip()


def _comment(comment: _Comment) -> Comment:
    return Comment(id=str(comment.id or ""), text=_text(comment.body),
                   author_ids=comment.author.ids() if comment.author else frozenset(),
                   created=comment.created or "")


def parse_comment(payload: Any) -> Comment:
    """A comment object (a `comment_created` event's `comment`); InvalidResponse naming the
    field when it is not shaped as Jira sends it."""
    try:
        check_json(payload, "comment")
        return _comment(_Comment.model_validate(payload))
    except UnstorableInput as exc:
        raise InvalidResponse(str(exc)) from None
    except ValidationError as exc:
        raise InvalidResponse(f"comment.{_first_error(exc)}") from None


def account_ids(payload: Any, where: str) -> frozenset[str]:
    """Every id of a user object (`user` of an event, `/myself`); InvalidResponse naming
    `where` when it is not shaped as Jira sends it."""
    try:
        check_json(payload, where)
        return _Account.model_validate(payload).ids()
    except UnstorableInput as exc:
        raise InvalidResponse(str(exc)) from None
    except ValidationError as exc:
        raise InvalidResponse(f"{where}.{_first_error(exc)}") from None


def command_of(text: str, prefix: str) -> str | None:
    """The command word of a comment whose first line is `<prefix> <word> ...` (lowercase),
    "" for the bare prefix, None for any other comment."""
    first = text.lstrip().split("\n", 1)[0].split()
    if not first or first[0].lower() != prefix.lower():
        return None
    return first[1].lower() if len(first) > 1 else ""


def clarified(issue: Issue, agent_ids: frozenset[str], prefix: str,
              own_comments: frozenset[str] = frozenset()) -> Issue:
    """The issue with its clarifications: people's comments, oldest first, without the
    agent's own (by author in `agent_ids`, or by id in `own_comments`, the comments its runs
    wrote), commands and empty ones; bounded as MAX_CLARIFICATIONS says."""
    people = [c for c in issue.comments if c.text and not (c.author_ids & agent_ids)
              and c.id not in own_comments and command_of(c.text, prefix) is None]
    kept = people[-MAX_CLARIFICATIONS:]
    texts = tuple(c.text if len(c.text) <= MAX_CLARIFICATION_CHARS
                  else c.text[:MAX_CLARIFICATION_CHARS] + " …[cut]" for c in kept)
    return replace(issue, clarifications=texts)


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
    return Issue(
        key=body.key, summary=(fields.summary or "").strip(),
        description=_text(fields.description),
        issue_type=fields.issuetype.name if fields.issuetype else None,
        labels=tuple(fields.labels or ()),
        components=tuple(c.name for c in fields.components or () if c.name),
        project=(fields.project.key if fields.project else None) or body.key.split("-")[0],
        raw=payload, comments_read=fields.comment is not None,
        comments=tuple(_comment(c) for c in fields.comment.comments) if fields.comment else ())


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
