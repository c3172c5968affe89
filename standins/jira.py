"""Jira stand-in: Jira Cloud (REST v3 and v2, Basic email:API token) or Jira Data Center
(REST v2 only, a personal access token as Bearer), serving issues in each version's shape.

Each rule follows a document, named beside it. What the documents leave open is marked as
the stand-in's choice, and no client test may depend on it.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hmac
import threading
from typing import Any
from urllib.parse import unquote

from standins.messages import RecordedRequest, Reply, json_reply
from standins.server import StandinServer

NOT_FOUND = "Issue does not exist or you do not have permission to see it."
UNAUTHENTICATED = "Client must be authenticated to access this resource."


def jira_error(*messages: str) -> dict[str, object]:
    return {"errorMessages": list(messages), "errors": {}}


def adf_document(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document Format document, one paragraph per blank-line block."""
    paragraphs = [block for block in text.split("\n\n") if block.strip()]
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": block}]}
            for block in paragraphs
        ],
    }


def adf_plain_text(document: dict[str, Any]) -> str:
    """The text nodes of a document, a blank line between top-level blocks. Jira Cloud's v2
    renders ADF as wiki markup; the stand-in gives only the text (its choice)."""
    def text_of(node: Any) -> str:
        if not isinstance(node, dict):
            return ""
        if node.get("type") == "text":
            return str(node.get("text", ""))
        content = node.get("content")
        return "".join(text_of(c) for c in content) if isinstance(content, list) else ""

    blocks = document.get("content")
    return "\n\n".join(text_of(b) for b in blocks) if isinstance(blocks, list) else ""


class JiraStandin(StandinServer):
    """Cloud when given `email` and `api_token`; Data Center when given
    `personal_access_token`."""

    def __init__(
        self,
        email: str | None = None,
        api_token: str | None = None,
        *,
        personal_access_token: str | None = None,
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
        self._issues: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def add_issue(self, issue: dict[str, Any]) -> dict[str, Any]:
        """Load an issue given as ``{"key", "fields": {...}}``; missing fields get Jira-like
        defaults. A description is wiki markup (a string) or, on Cloud only, ADF (a
        document): Data Center has no ADF. Returns the stored issue."""
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
        return stored

    def error_reply(self, status: int, message: str) -> Reply:
        return json_reply(status, jira_error(message))

    def handle(self, request: RecordedRequest) -> Reply:
        if not self._authorized(request.headers.get("authorization", "")):
            reply = json_reply(401, jira_error(UNAUTHENTICATED))
            reply.headers["WWW-Authenticate"] = 'Basic realm="protected-area"'
            return reply
        version, wanted = self._route(request)
        if version is None:
            return json_reply(404, jira_error("Not found"))
        with self._lock:
            found = next((i for i in self._issues.values() if wanted in (i["key"], i["id"])), None)
            issue = copy.deepcopy(found)
        if issue is None:
            return json_reply(404, jira_error(NOT_FOUND))
        issue["self"] = f"{self.base_url}/rest/api/{version}/issue/{issue['id']}"
        issue["fields"]["description"] = self._description(issue["fields"]["description"],
                                                           version)
        return json_reply(200, issue)

    def _route(self, request: RecordedRequest) -> tuple[str | None, str]:
        """(REST version, issue key or id) of `GET /rest/api/{2|3}/issue/{key}`."""
        for version in self.versions:
            prefix = f"/rest/api/{version}/issue/"
            if request.method == "GET" and request.path.startswith(prefix):
                return version, unquote(request.path.removeprefix(prefix)).upper()
        return None, ""

    @staticmethod
    def _description(description: Any, version: str) -> Any:
        """v3 gives ADF, v2 a wiki string (REST v3 intro, "Version": v2 and v3 "offer the
        same collection of operations", v3 adds ADF in the description). A description
        loaded as a string reaches v3 as plain-text paragraphs: the stand-in does not
        render wiki markup as ADF (its choice), so v3 tests of formatting load ADF."""
        if description is None:
            return None
        if version == "3":
            return description if isinstance(description, dict) else adf_document(description)
        return description if isinstance(description, str) else adf_plain_text(description)

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
