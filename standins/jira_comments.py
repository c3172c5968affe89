"""Issue comments as the Jira stand-in keeps them: who wrote them, when, and their body.

Shapes follow "Issue comments" (Jira Cloud REST v3,
developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/; the same
resource in Data Center REST v2, "JIRA REST API Example - Add Comment",
developer.atlassian.com/server/jira/platform/jira-rest-api-example-add-comment-8946422/):
a comment is `{id, self, author, body, updateAuthor, created, updated}`, its id a string;
a page of them is `{startAt, maxResults, total, comments}`, oldest first.
A body is stored as it was sent; `jira.py` serves it in the shape of the version asked.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from standins.jira_adf import adf_plain_text, is_adf_document

# Jira's default limit on a text field, comments included ("Configuring advanced settings",
# jira.text.field.character.limit = 32767, confluence.atlassian.com/adminjiraserver/).
MAX_COMMENT_CHARS = 32767

CommentListener = Callable[[str, str, dict[str, Any]], None]


def jira_timestamp(moment: datetime) -> str:
    """Jira's timestamp form, e.g. 2024-05-01T10:00:00.000+0000 (as in the REST examples)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def body_text(body: Any) -> str:
    """A stored body as plain text: a wiki string as is, an ADF document's text."""
    return body if isinstance(body, str) else adf_plain_text(body)


class CommentStore:
    """Every issue's comments, in the order they were added."""

    def __init__(self) -> None:
        self._by_issue: dict[str, list[dict[str, Any]]] = {}
        self._ids = itertools.count(10000)
        self._lock = threading.Lock()
        self.listeners: list[CommentListener] = []

    def add(self, issue_key: str, body: Any, author: dict[str, Any]) -> dict[str, Any]:
        now = jira_timestamp(datetime.now(UTC))
        with self._lock:
            comment = {"id": str(next(self._ids)), "author": copy.deepcopy(author),
                       "body": copy.deepcopy(body), "updateAuthor": copy.deepcopy(author),
                       "created": now, "updated": now}
            self._by_issue.setdefault(issue_key, []).append(comment)
            stored = copy.deepcopy(comment)
        self._tell(issue_key, "added", stored)
        return stored

    def edit(self, issue_key: str, comment_id: str, body: Any,
             author: dict[str, Any]) -> dict[str, Any] | None:
        """The edited comment, or None when the issue has no comment with that id."""
        with self._lock:
            comment = next((c for c in self._by_issue.get(issue_key, [])
                            if c["id"] == comment_id), None)
            if comment is None:
                return None
            comment.update(body=copy.deepcopy(body), updateAuthor=copy.deepcopy(author),
                           updated=jira_timestamp(datetime.now(UTC)))
            stored = copy.deepcopy(comment)
        self._tell(issue_key, "edited", stored)
        return stored

    def of(self, issue_key: str) -> list[dict[str, Any]]:
        """The issue's comments, oldest first (copies)."""
        with self._lock:
            return copy.deepcopy(self._by_issue.get(issue_key, []))

    def _tell(self, issue_key: str, action: str, comment: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            listener(issue_key, action, comment)


def comment_error(body: Any, version: str) -> str | None:
    """Why Jira would refuse this comment body, or None. v3 takes only an ADF document ("Add
    comment", body: "The comment text in Atlassian Document Format"); v2 only a string (Data
    Center "Add Comment" example). Jira answers an empty body with "Comment body can not be
    empty!" and a body over the text-field limit with the limit's message."""
    if version == "3" and not is_adf_document(body):
        return "Comment body is not valid!"
    if version == "2" and not isinstance(body, str):
        return "Comment body is not valid!"
    text = body_text(body)
    if not text.strip():
        return "Comment body can not be empty!"
    if len(text) > MAX_COMMENT_CHARS:
        return (f"The entered text is too long. It exceeds the allowed limit of "
                f"{MAX_COMMENT_CHARS} characters.")
    return None
