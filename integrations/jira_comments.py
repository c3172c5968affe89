"""The agent's writes to a Jira issue: its comment (added, then edited in place) and the
issue's workflow transitions.

"Issue comments" (developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/):
POST /issue/{key}/comment answers 201 with the comment and its `id`; PUT
/issue/{key}/comment/{id} replaces its body. The body is ADF on REST v3 and wiki text on v2
(`integrations.jira_report` makes both). "Get transitions" / "Transition issue"
(developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/): GET
/issue/{key}/transitions lists the transitions of the issue's current status as
`{"transitions": [{"id", "name", "to"}]}`; POST `{"transition": {"id"}}` answers 204.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from base.errors import InvalidResponse
from integrations.jira_http import JiraHttp


@dataclass(frozen=True)
class JiraTransition:
    id: str
    name: str


class JiraComments:
    def __init__(self, http: JiraHttp) -> None:
        self.http = http

    def add_comment(self, issue_key: str, body: object) -> str:
        """The new comment's id."""
        answer = self.http.send("POST", "/issue/{issueIdOrKey}/comment",
                                path=f"/issue/{_key(issue_key)}/comment", body={"body": body})
        comment_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(comment_id, str | int) or not str(comment_id):
            raise InvalidResponse("Jira's new comment has no id")
        return str(comment_id)

    def edit_comment(self, issue_key: str, comment_id: str, body: object) -> None:
        """A comment that is gone (deleted by a person) is `NotFound`."""
        self.http.send("PUT", "/issue/{issueIdOrKey}/comment/{id}",
                       path=f"/issue/{_key(issue_key)}/comment/{quote(comment_id, safe='')}",
                       body={"body": body})

    def transitions(self, issue_key: str) -> list[JiraTransition]:
        """The transitions the issue's current status offers the agent."""
        answer = self.http.send("GET", "/issue/{issueIdOrKey}/transitions",
                                path=f"/issue/{_key(issue_key)}/transitions")
        listed: Any = answer.get("transitions") if isinstance(answer, dict) else None
        if not isinstance(listed, list):
            raise InvalidResponse("Jira's transitions answer has no list of transitions")
        return [JiraTransition(str(t["id"]), str(t["name"])) for t in listed
                if isinstance(t, dict) and "id" in t and "name" in t]

    def transition(self, issue_key: str, transition_id: str) -> None:
        self.http.send("POST", "/issue/{issueIdOrKey}/transitions",
                       path=f"/issue/{_key(issue_key)}/transitions",
                       body={"transition": {"id": transition_id}})


def _key(issue_key: str) -> str:
    return quote(issue_key, safe="")
