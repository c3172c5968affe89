"""Jira Cloud REST v3 stand-in serving issues (descriptions as ADF) to Basic-authenticated calls."""

from __future__ import annotations

import base64
import binascii
import copy
import hmac
import threading
from typing import Any
from urllib.parse import unquote

from integrations.standins.messages import RecordedRequest, Reply, json_reply
from integrations.standins.server import StandinServer

ISSUE_PREFIX = "/rest/api/3/issue/"
NOT_FOUND = "Issue does not exist or you do not have permission to see it."


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


class JiraStandin(StandinServer):
    def __init__(
        self,
        email: str,
        api_token: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
    ) -> None:
        super().__init__(host=host, port=port, latency=latency)
        self._credentials = f"{email}:{api_token}".encode()
        self._issues: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def add_issue(self, issue: dict[str, Any]) -> dict[str, Any]:
        """Load an issue given as ``{"key", "fields": {...}}``; missing fields get Jira-like
        defaults and a plain-text description becomes ADF. Returns the stored issue."""
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
        if isinstance(fields["description"], str):
            fields["description"] = adf_document(fields["description"])
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
            reply = json_reply(
                401, jira_error("Client must be authenticated to access this resource.")
            )
            reply.headers["WWW-Authenticate"] = 'Basic realm="protected-area"'
            return reply
        if request.method != "GET" or not request.path.startswith(ISSUE_PREFIX):
            return json_reply(404, jira_error("Not found"))
        wanted = unquote(request.path.removeprefix(ISSUE_PREFIX)).upper()
        with self._lock:
            found = next((i for i in self._issues.values() if wanted in (i["key"], i["id"])), None)
            issue = copy.deepcopy(found)
        if issue is None:
            return json_reply(404, jira_error(NOT_FOUND))
        issue["self"] = f"{self.base_url}/rest/api/3/issue/{issue['id']}"
        return json_reply(200, issue)

    def _authorized(self, header: str) -> bool:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True)
        except (ValueError, binascii.Error):
            return False
        return hmac.compare_digest(decoded, self._credentials)
