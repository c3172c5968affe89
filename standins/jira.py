"""Jira stand-in: Jira Cloud (REST v3 and v2, Basic email:API token) or Jira Data Center
(REST v2 only, a personal access token as Bearer), serving issues, their comments, the
signed-in user and the issue transitions in each version's shape.

Each rule follows a document, named beside it. What the documents leave open is marked as
the stand-in's choice, and no client test may depend on it.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hmac
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote

from standins.jira_adf import adf_document, adf_plain_text
from standins.jira_comments import CommentStore, body_text, comment_error
from standins.jira_workflow import DEFAULT_WORKFLOW, Transition
from standins.messages import RecordedRequest, Reply, json_reply
from standins.server import StandinServer

__all__ = ["JiraStandin", "Transition", "adf_document", "adf_plain_text"]

NOT_FOUND = "Issue does not exist or you do not have permission to see it."
UNAUTHENTICATED = "Client must be authenticated to access this resource."


def jira_error(*messages: str, **errors: str) -> dict[str, object]:
    return {"errorMessages": list(messages), "errors": errors}


class JiraStandin(StandinServer):
    """Cloud when given `email` and `api_token`; Data Center when given
    `personal_access_token`. The credentials belong to one user, the agent (`display_name`),
    who writes the comments that come in over HTTP."""

    def __init__(
        self,
        email: str | None = None,
        api_token: str | None = None,
        *,
        personal_access_token: str | None = None,
        display_name: str = "sdb-agent",
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
    ) -> None:
        super().__init__(host=host, port=port, latency=latency)
        if personal_access_token is None and not (email and api_token):
            raise ValueError("give email and api_token (Cloud) or personal_access_token "
                             "(Data Center)")
        self.data_center = personal_access_token is not None
        self._pat = (personal_access_token or "").encode()
        self._credentials = f"{email}:{api_token}".encode()
        # Data Center has REST v2 only; Cloud has v2 and v3 ("The Jira Cloud platform REST
        # API", developer.atlassian.com/cloud/jira/platform/rest/v3/intro/#version).
        self.versions = ("2",) if self.data_center else ("2", "3")
        self.user = self.person(display_name, email=email or "sdb-agent@example.com")
        self.workflow: dict[str, tuple[Transition, ...]] = dict(DEFAULT_WORKFLOW)
        self._comments = CommentStore()
        self._issues: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    # -- loading and reading back, for tests and the demo ----------------------------------

    def person(self, display_name: str, *, email: str | None = None) -> dict[str, Any]:
        """A user as this Jira names one: Cloud by `accountId` ("Get current user",
        developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-myself/), Data Center by
        `name` and `key` (REST v2 `/myself`). The ids are made from the name (its choice)."""
        slug = "".join(ch for ch in display_name.lower() if ch.isalnum()) or "user"
        named: dict[str, Any] = (
            {"name": slug, "key": f"JIRAUSER-{slug}"} if self.data_center
            else {"accountId": f"557058:{slug}", "accountType": "atlassian"})
        if email:
            named["emailAddress"] = email
        return {**named, "displayName": display_name, "active": True}

    def add_issue(self, issue: dict[str, Any]) -> dict[str, Any]:
        """Load an issue given as ``{"key", "fields": {...}}``; missing fields get Jira-like
        defaults. A description is wiki markup (a string) or, on Cloud only, ADF (a
        document): Data Center has no ADF. Comments given in ``fields.comment.comments``
        are added as the issue's comments. Returns the stored issue."""
        key = str(issue["key"]).upper()
        project = key.rsplit("-", 1)[0]
        fields = {
            "summary": "",
            "description": None,
            "issuetype": {"name": "Task"},
            "labels": [],
            "project": {"key": project, "name": project.title()},
            "status": {"name": "To Do"},
            **copy.deepcopy(issue.get("fields", {})),
        }
        given = fields.pop("comment", None) or {}
        if self.data_center and isinstance(fields["description"], dict):
            raise ValueError("Jira Data Center descriptions are wiki markup, not ADF")
        with self._lock:
            issue_id = str(issue.get("id") or 10000 + len(self._issues))
            stored = {
                "expand": "renderedFields,names,schema",
                "id": issue_id,
                "key": key,
                "fields": fields,
            }
            self._issues[key] = stored
        for comment in given.get("comments", []):
            self.add_comment(key, comment["body"], author=comment.get("author"))
        return stored

    def add_comment(self, issue_key: str, body: str | dict[str, Any],
                    author: dict[str, Any] | None = None) -> dict[str, Any]:
        """A comment written in Jira by `author` (a `person`; the agent by default)."""
        if self.data_center and isinstance(body, dict):
            raise ValueError("Jira Data Center comments are wiki markup, not ADF")
        return self._comments.add(issue_key.upper(), body, author or self.user)

    def comments(self, issue_key: str) -> list[dict[str, Any]]:
        """The issue's comments as stored (bodies as sent), oldest first."""
        return self._comments.of(issue_key.upper())

    def comment_texts(self, issue_key: str) -> list[str]:
        """The issue's comments as plain text, oldest first."""
        return [body_text(c["body"]) for c in self.comments(issue_key)]

    def watch_comments(self, show: Callable[[str, str, str], None]) -> None:
        """Call `show(issue_key, "added" | "edited", text)` as each comment is written."""
        self._comments.listeners.append(
            lambda key, action, comment: show(key, action, body_text(comment["body"])))

    def status_of(self, issue_key: str) -> str:
        with self._lock:
            return str(self._issues[issue_key.upper()]["fields"]["status"]["name"])

    def set_transitions(self, status: str, *transitions: Transition) -> None:
        """The transitions an issue in `status` offers (none: the user may not move it)."""
        self.workflow[status] = transitions

    # -- HTTP --------------------------------------------------------------------------------

    def error_reply(self, status: int, message: str) -> Reply:
        return json_reply(status, jira_error(message))

    def handle(self, request: RecordedRequest) -> Reply:
        if not self._authorized(request.headers.get("authorization", "")):
            reply = json_reply(401, jira_error(UNAUTHENTICATED))
            reply.headers["WWW-Authenticate"] = 'Basic realm="protected-area"'
            return reply
        version, parts = self._route(request.path)
        if version is None:
            return json_reply(404, jira_error("Not found"))
        if parts == ["myself"]:
            return self._only(request, "GET") or json_reply(200, self._myself(version))
        if len(parts) < 2 or parts[0] != "issue" or len(parts) > 4:
            return json_reply(404, jira_error("Not found"))
        issue = self._issue(parts[1])
        if issue is None:
            return json_reply(404, jira_error(NOT_FOUND))
        rest = parts[2:]
        if not rest:
            return self._only(request, "GET") or json_reply(200, self._served_issue(issue,
                                                                                    version))
        if rest[0] == "comment":
            return self._comment_route(request, issue, version, rest[1:])
        if rest == ["transitions"]:
            return self._transitions_route(request, issue)
        return json_reply(404, jira_error("Not found"))

    def _route(self, path: str) -> tuple[str | None, list[str]]:
        """(REST version, path segments after /rest/api/{2|3}/)."""
        for version in self.versions:
            prefix = f"/rest/api/{version}/"
            if path.startswith(prefix):
                return version, [unquote(p) for p in path.removeprefix(prefix).split("/") if p]
        return None, []

    @staticmethod
    def _only(request: RecordedRequest, *methods: str) -> Reply | None:
        """405 for a method the resource does not have (the REST reference lists each
        resource's methods; the error body is the stand-in's choice)."""
        if request.method in methods:
            return None
        return json_reply(405, jira_error(f"{request.method} is not supported here"))

    def _issue(self, wanted: str) -> dict[str, Any] | None:
        wanted = wanted.upper()
        with self._lock:
            found = next((i for i in self._issues.values() if wanted in (i["key"], i["id"])),
                         None)
            return copy.deepcopy(found)

    def _served_issue(self, issue: dict[str, Any], version: str) -> dict[str, Any]:
        """The issue with `fields.comment` as "Get issue" gives it: `{comments, maxResults,
        total, startAt}`, the comments oldest first."""
        issue["self"] = f"{self.base_url}/rest/api/{version}/issue/{issue['id']}"
        fields = issue["fields"]
        fields["description"] = self._in_version(fields["description"], version)
        comments = [self._served_comment(c, issue, version) for c in self.comments(issue["key"])]
        fields["comment"] = {"comments": comments, "maxResults": len(comments),
                             "total": len(comments), "startAt": 0}
        return issue

    def _myself(self, version: str) -> dict[str, Any]:
        who = self.user.get("accountId") or self.user["name"]
        return {**self.user, "self": f"{self.base_url}/rest/api/{version}/user?{who}",
                "timeZone": "UTC", "locale": "en_US"}

    def _comment_route(self, request: RecordedRequest, issue: dict[str, Any], version: str,
                       rest: list[str]) -> Reply:
        """"Issue comments": GET (a page, `startAt`/`maxResults`, oldest first) and POST
        (201 with the comment) on /comment; GET and PUT (200) on /comment/{id}; 404 for a
        comment the issue does not have."""
        key = issue["key"]
        if not rest:
            refused = self._only(request, "GET", "POST")
            if refused:
                return refused
            if request.method == "GET":
                return json_reply(200, self._comment_page(request, issue, version))
            body, error = self._comment_body(request, version)
            if error:
                return error
            comment = self._comments.add(key, body, self.user)
            return json_reply(201, self._served_comment(comment, issue, version))
        refused = self._only(request, "GET", "PUT")
        if refused:
            return refused
        if request.method == "GET":
            found = next((c for c in self.comments(key) if c["id"] == rest[0]), None)
            if found is None:
                return json_reply(404, jira_error("Can not find a comment for the id: "
                                                  f"{rest[0]}."))
            return json_reply(200, self._served_comment(found, issue, version))
        body, error = self._comment_body(request, version)
        if error:
            return error
        edited = self._comments.edit(key, rest[0], body, self.user)
        if edited is None:
            return json_reply(404, jira_error(f"Can not find a comment for the id: {rest[0]}."))
        return json_reply(200, self._served_comment(edited, issue, version))

    def _comment_page(self, request: RecordedRequest, issue: dict[str, Any],
                      version: str) -> dict[str, Any]:
        """"Get comments": `startAt` (default 0), `maxResults` (default 5000 on Cloud), and
        `orderBy` `created` or `-created`; oldest first otherwise."""
        query = parse_qs(request.query)
        start = _int(query.get("startAt", ["0"])[0], 0)
        size = _int(query.get("maxResults", ["5000"])[0], 5000)
        comments = self.comments(issue["key"])
        if query.get("orderBy", [""])[0] == "-created":
            comments.reverse()
        page = comments[start:start + size]
        return {"startAt": start, "maxResults": size, "total": len(comments),
                "comments": [self._served_comment(c, issue, version) for c in page]}

    @staticmethod
    def _comment_body(request: RecordedRequest, version: str) -> tuple[Any, Reply | None]:
        """The request's `body`, or Jira's 400 (`errors.comment`) for one it refuses; a
        request that is not JSON is a 415 (REST resources consume application/json)."""
        if "application/json" not in request.headers.get("content-type", ""):
            return None, json_reply(415, jira_error("Unsupported Media Type"))
        try:
            payload = request.json()
        except ValueError:
            return None, json_reply(400, jira_error("Unexpected character in the request body"))
        body = payload.get("body") if isinstance(payload, dict) else None
        problem = comment_error(body, version)
        if problem:
            return None, json_reply(400, jira_error(comment=problem))
        return body, None

    def _served_comment(self, comment: dict[str, Any], issue: dict[str, Any],
                        version: str) -> dict[str, Any]:
        return {**comment, "body": self._in_version(comment["body"], version),
                "self": f"{self.base_url}/rest/api/{version}/issue/{issue['id']}/comment/"
                        f"{comment['id']}"}

    def _transitions_route(self, request: RecordedRequest, issue: dict[str, Any]) -> Reply:
        """GET: the transitions of the issue's status. POST `{"transition": {"id"}}`: 204
        and the issue moves; an id the status does not offer is a 400 (its wording is the
        stand-in's choice)."""
        refused = self._only(request, "GET", "POST")
        if refused:
            return refused
        offered = self.workflow.get(issue["fields"]["status"]["name"], ())
        if request.method == "GET":
            return json_reply(200, {"expand": "transitions",
                                    "transitions": [t.as_json() for t in offered]})
        if "application/json" not in request.headers.get("content-type", ""):
            return json_reply(415, jira_error("Unsupported Media Type"))
        try:
            payload = request.json()
        except ValueError:
            return json_reply(400, jira_error("Unexpected character in the request body"))
        wanted = payload.get("transition") if isinstance(payload, dict) else None
        wanted_id = str(wanted.get("id", "")) if isinstance(wanted, dict) else ""
        if not wanted_id:
            return json_reply(400, jira_error("Missing 'transition' identifier"))
        chosen = next((t for t in offered if t.id == wanted_id), None)
        if chosen is None:
            return json_reply(400, jira_error(
                f"Transition id '{wanted_id}' is not valid for this issue."))
        with self._lock:
            self._issues[issue["key"]]["fields"]["status"] = {"name": chosen.to}
        return Reply(204, b"", content_type=None)

    @staticmethod
    def _in_version(body: Any, version: str) -> Any:
        """v3 gives ADF, v2 a wiki string (REST v3 intro, "Version": v2 and v3 "offer the
        same collection of operations", v3 adds ADF in descriptions and comments). Text
        loaded as a string reaches v3 as plain-text paragraphs: the stand-in does not render
        wiki markup as ADF (its choice), so v3 tests of formatting load ADF."""
        if body is None:
            return None
        if version == "3":
            return body if isinstance(body, dict) else adf_document(body)
        return body if isinstance(body, str) else adf_plain_text(body)

    def _authorized(self, header: str) -> bool:
        """Cloud: Basic email:API token only (a Bearer there is an OAuth 2.0 token; "Basic
        auth for REST APIs"). Data Center: `Authorization: Bearer <PAT>` ("Using Personal
        Access Tokens"); a PAT is not a password, so Basic with it fails."""
        scheme, _, credentials = header.partition(" ")
        if self.data_center:
            return scheme.lower() == "bearer" and hmac.compare_digest(
                credentials.strip().encode(), self._pat)
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True)
        except (ValueError, binascii.Error):
            return False
        return hmac.compare_digest(decoded, self._credentials)


def _int(value: str, default: int) -> int:
    try:
        return max(0, int(value))
    except ValueError:
        return default


