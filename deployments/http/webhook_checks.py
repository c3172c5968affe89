"""Pure checks of a Jira webhook request: signature, shared token, and the event filter."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from integrations.jira import Issue
from sdb_agent.settings import Settings


def valid_signature(secret: str, body: bytes, header: str | None) -> bool:
    """`X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.removeprefix("sha256=").lower().encode())


def authenticated(settings: Settings, body: bytes, headers: Any) -> bool:
    """Open when neither a secret nor a token is configured; else either must match."""
    secret, token = settings.jira_webhook_secret, settings.jira_webhook_token
    if secret is None and token is None:
        return True
    if secret is not None and valid_signature(secret.get_secret_value(), body,
                                              headers.get("x-hub-signature")):
        return True
    given = headers.get(settings.jira_webhook_token_header)
    return token is not None and given is not None and hmac.compare_digest(
        given.encode(), token.get_secret_value().encode())


def ignored_event(settings: Settings, payload: dict[str, Any]) -> str | None:
    event = payload.get("webhookEvent")
    if event not in settings.webhook_event_set:
        return f"event {str(event)[:60]!r} is not one of WEBHOOK_EVENTS"
    return None


def ignored_issue(settings: Settings, issue: Issue) -> str | None:
    """Why the configured filters skip this issue, or None to process it."""
    if settings.webhook_project_set and issue.project not in settings.webhook_project_set:
        return f"project {issue.project} is not in WEBHOOK_PROJECTS"
    if settings.webhook_issue_type_set and issue.issue_type not in settings.webhook_issue_type_set:
        return f"issue type {issue.issue_type} is not in WEBHOOK_ISSUE_TYPES"
    label = settings.webhook_trigger_label
    if label and label not in issue.labels:
        return f"the issue lacks the trigger label {label!r}"
    return None
