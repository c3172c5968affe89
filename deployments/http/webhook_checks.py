"""Pure checks of a Jira webhook request: signature, shared token, and the event filter.

Two senders reach the webhook. Admin webhooks sign the raw body (`X-Hub-Signature`) and
always name their event in `webhookEvent` (Jira Cloud "Webhooks",
developer.atlassian.com/cloud/jira/platform/webhooks/). Jira Automation's "Send web request"
cannot sign; it sends the shared token in a header of the rule's choosing, and its issue
bodies carry no `webhookEvent`: "Issue data (Automation format)" is the bare REST v2 issue
and "Issue data (Jira format)" is `{"issue": ...}` (support.atlassian.com/cloud-automation/
docs/issue-data-automation-format-payload-for-send-web-request and .../issue-data-jira-
format-payload-for-send-web-request-action). So a body without `webhookEvent` is an
Automation body when the token let it in (or nothing is configured to check), and is
ignored when only the signature did: a signed body is an admin webhook's, and one without
an event is not an issue event.

`comment_created` need not be listed in WEBHOOK_EVENTS: a new comment only ever starts a run
as a command (`deployments.http.webhook_events`), which a person gives on purpose.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Literal

from base.settings import Settings
from integrations.jira import Issue


def valid_signature(secret: str, body: bytes, header: str | None) -> bool:
    """`X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.removeprefix("sha256=").lower().encode())


Credential = Literal["open", "token", "signature"]
COMMENT_CREATED = "comment_created"


def credential(settings: Settings, body: bytes, headers: Any) -> Credential | None:
    """What let the request in: "open" when neither a secret nor a token is configured, else
    the Automation token or the signature; None when neither matches."""
    secret, token = settings.jira_webhook_secret, settings.jira_webhook_token
    if secret is None and token is None:
        return "open"
    given = headers.get(settings.jira_webhook_token_header)
    if token is not None and given is not None and hmac.compare_digest(
            given.encode(), token.get_secret_value().encode()):
        return "token"
    if secret is not None and valid_signature(secret.get_secret_value(), body,
                                              headers.get("x-hub-signature")):
        return "signature"
    return None


def automation_body(payload: dict[str, Any], who: Credential) -> str | None:
    """The Automation format of a body without `webhookEvent`, as recorded for the
    delivery, or None when it is not one (a signed body, or one that names an event)."""
    if "webhookEvent" in payload or who == "signature":
        return None
    return "automation:jira-format" if "issue" in payload else "automation:automation-format"


def ignored_event(settings: Settings, payload: dict[str, Any], who: Credential) -> str | None:
    """Why the event is not one to act on, or None. An Automation rule chose its own
    trigger, so WEBHOOK_EVENTS (admin webhook event names) does not apply to it."""
    if automation_body(payload, who) is not None:
        return None
    event = payload.get("webhookEvent")
    if event is None:
        return ("a signed body without webhookEvent is not an issue event; Automation "
                f"requests authenticate with {settings.jira_webhook_token_header}")
    if event not in settings.webhook_event_set and event != COMMENT_CREATED:
        return f"event {str(event)[:60]!r} is not one of WEBHOOK_EVENTS"
    return None


def ignored_issue(settings: Settings, issue: Issue, *, command: bool = False) -> str | None:
    """Why the configured filters skip this issue, or None to process it. A command needs no
    trigger label: a person asked, and a comment event's short issue has no labels."""
    if settings.webhook_project_set and issue.project not in settings.webhook_project_set:
        return f"project {issue.project} is not in WEBHOOK_PROJECTS"
    if settings.webhook_issue_type_set and issue.issue_type not in settings.webhook_issue_type_set:
        return f"issue type {issue.issue_type} is not in WEBHOOK_ISSUE_TYPES"
    label = settings.webhook_trigger_label
    if label and not command and label not in issue.labels:
        return f"the issue lacks the trigger label {label!r}"
    return None
