"""Pull request comments, accounts and the comment webhook, as Bitbucket Cloud documents them.

- Comments: OpenAPI `GET/POST /repositories/{workspace}/{repo_slug}/pullrequests/{id}/comments`
  and `GET .../comments/{comment_id}`: a `pullrequest_comment` has `id`, `content.raw`, `user`,
  `inline` {`path`, `from`, `to`} for a comment on a line, `parent` {`id`} for a reply, and
  answers 201 when created; a `parent` that is no comment of the PR is a 400 here.
- Permissions: OpenAPI `GET .../permissions-config/users/{selected_user_id}` answers the
  user's explicit permission (`read`, `write`, `admin`) and 404 when there is none
  (developer.atlassian.com/cloud/bitbucket/new-repo-permission-apis/).
- Webhook (support.atlassian.com/bitbucket-cloud/docs/event-payloads/ and
  .../manage-webhooks/): a `pullrequest:comment_created` body has `actor`, `pullrequest`,
  `comment` and `repository`; the headers are `X-Event-Key`, `X-Request-UUID`,
  `X-Attempt-Number`, `X-Hook-UUID`, and with a secret `X-Hub-Signature: sha256=<hex
  HMAC-SHA256 of the raw body>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

COMMENT_CREATED = "pullrequest:comment_created"


@dataclass(frozen=True)
class Account:
    uuid: str
    account_id: str
    nickname: str
    display_name: str

    @classmethod
    def named(cls, nickname: str) -> Account:
        """A made-up account whose ids derive from its nickname."""
        digest = uuid.uuid5(uuid.NAMESPACE_URL, f"bitbucket.example/{nickname}")
        return cls(f"{{{digest}}}", f"557058:{digest}", nickname, nickname.title())

    def document(self) -> dict[str, object]:
        return {"type": "user", "uuid": self.uuid, "account_id": self.account_id,
                "nickname": self.nickname, "display_name": self.display_name}


@dataclass(frozen=True)
class Comment:
    id: int
    pr_id: int
    raw: str
    user: Account
    created_on: str
    inline: dict[str, object] | None = None
    parent: int | None = None


class CommentStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._comments: list[Comment] = []

    def add(self, pr_id: int, raw: str, user: Account, *, inline: dict[str, object] | None = None,
            parent: int | None = None) -> Comment:
        with self._lock:
            comment = Comment(len(self._comments) + 1, pr_id, raw, user,
                              datetime.now(UTC).isoformat(), inline, parent)
            self._comments.append(comment)
            return comment

    def of(self, pr_id: int) -> list[Comment]:
        with self._lock:
            return [c for c in self._comments if c.pr_id == pr_id]

    def get(self, pr_id: int, comment_id: int) -> Comment | None:
        return next((c for c in self.of(pr_id) if c.id == comment_id), None)


def comment_document(comment: Comment, pr_url: str, pr_html: str) -> dict[str, object]:
    data: dict[str, object] = {
        "type": "pullrequest_comment", "id": comment.id, "deleted": False,
        "content": {"type": "rendered", "raw": comment.raw, "markup": "markdown"},
        "user": comment.user.document(), "created_on": comment.created_on,
        "updated_on": comment.created_on,
        "links": {"self": {"href": f"{pr_url}/comments/{comment.id}"},
                  "html": {"href": f"{pr_html}#comment-{comment.id}"}}}
    if comment.inline is not None:
        data["inline"] = comment.inline
    if comment.parent is not None:
        data["parent"] = {"id": comment.parent,
                          "links": {"self": {"href": f"{pr_url}/comments/{comment.parent}"}}}
    return data


def comment_event(*, actor: Account, pullrequest: dict[str, object],
                  comment: dict[str, object], repository: dict[str, object]) -> dict[str, object]:
    """The `pullrequest:comment_created` body."""
    return {"actor": actor.document(), "pullrequest": pullrequest, "comment": comment,
            "repository": repository}


def signed_headers(body: bytes, secret: str | None, *, event_key: str = COMMENT_CREATED,
                   request_uuid: str | None = None, attempt: int = 1) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "X-Event-Key": event_key,
               "X-Request-UUID": request_uuid or str(uuid.uuid4()),
               "X-Attempt-Number": str(attempt), "X-Hook-UUID": str(uuid.uuid4()),
               "User-Agent": "Bitbucket-Webhooks/2.0"}
    if secret is not None:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Hub-Signature"] = f"sha256={digest}"
    return headers


def deliver(url: str, payload: dict[str, Any], secret: str | None, *,
            event_key: str = COMMENT_CREATED, request_uuid: str | None = None,
            attempt: int = 1) -> requests.Response:
    """POST the event as Bitbucket does: the JSON body, signed when a secret is given."""
    body = json.dumps(payload).encode()
    return requests.post(url, data=body, timeout=30, headers=signed_headers(
        body, secret, event_key=event_key, request_uuid=request_uuid, attempt=attempt))
