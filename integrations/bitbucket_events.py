"""Bitbucket Cloud's `pullrequest:comment_created` webhook body, validated into the one
review comment a revision needs.

The body holds `actor`, `pullrequest`, `comment` and `repository` (support.atlassian.com/
bitbucket-cloud/docs/event-payloads/, "Comment created"); the comment is the OpenAPI
`pullrequest_comment`: `content.raw`, `inline` {`path`, `from`, `to`} when it sits on a line,
`parent` {`id`} when it is a reply. Fields we do not use are ignored; the ones we use must
have Bitbucket's types, or the body is refused naming the field.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from base.errors import InvalidResponse

MAX_COMMENT_CHARS = 32_000


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, populate_by_name=True)


class _Account(_Loose):
    uuid: str = Field(min_length=1, max_length=100)
    account_id: str | None = Field(default=None, max_length=128)
    nickname: str | None = Field(default=None, max_length=255)
    display_name: str | None = Field(default=None, max_length=255)


class _Href(_Loose):
    href: str = Field(min_length=1, max_length=2000)


class _Links(_Loose):
    html: _Href


class _Branch(_Loose):
    name: str = Field(min_length=1, max_length=255)


class _End(_Loose):
    branch: _Branch


class _PullRequest(_Loose):
    id: int = Field(ge=1)
    links: _Links
    source: _End
    destination: _End
    author: _Account


class _Content(_Loose):
    raw: str = Field(max_length=MAX_COMMENT_CHARS)


class _Inline(_Loose):
    path: str = Field(min_length=1, max_length=500)
    to: int | None = Field(default=None, ge=1)
    from_: int | None = Field(default=None, alias="from", ge=1)


class _Parent(_Loose):
    id: int = Field(ge=1)


class _Comment(_Loose):
    id: int = Field(ge=1)
    content: _Content
    inline: _Inline | None = None
    parent: _Parent | None = None


class _Repository(_Loose):
    full_name: str = Field(min_length=1, max_length=255)


class _CommentCreated(_Loose):
    actor: _Account
    pullrequest: _PullRequest
    comment: _Comment
    repository: _Repository


class ReviewComment(BaseModel):
    """One comment on a pull request, as the revise-pull-request flow takes it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    repository: str
    pr_id: int
    pr_url: str
    pr_author_uuid: str
    source_branch: str
    destination_branch: str
    comment_id: int
    text: str
    author_uuid: str
    author_account_id: str | None = None
    author_nickname: str | None = None
    author_name: str | None = None
    path: str | None = None
    line: int | None = None
    parent_id: int | None = None

    @property
    def author(self) -> str:
        """How people know the author."""
        return self.author_name or self.author_nickname or self.author_uuid

    @property
    def account(self) -> str:
        """The id Bitbucket's API takes for the author."""
        return self.author_account_id or self.author_uuid


def parse_comment_created(payload: dict[str, Any]) -> ReviewComment:
    """The review comment of a `pullrequest:comment_created` body; InvalidResponse naming the
    first field that is missing or not of Bitbucket's type."""
    try:
        event = _CommentCreated.model_validate(payload)
    except ValidationError as exc:
        error = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in error["loc"]) or "body"
        raise InvalidResponse(f"{where}: {error['msg']}") from None
    pr, comment, actor = event.pullrequest, event.comment, event.actor
    inline = comment.inline
    return ReviewComment(
        repository=event.repository.full_name, pr_id=pr.id, pr_url=pr.links.html.href,
        pr_author_uuid=pr.author.uuid, source_branch=pr.source.branch.name,
        destination_branch=pr.destination.branch.name, comment_id=comment.id,
        text=comment.content.raw, author_uuid=actor.uuid, author_account_id=actor.account_id,
        author_nickname=actor.nickname, author_name=actor.display_name,
        path=inline.path if inline else None,
        line=(inline.to or inline.from_) if inline else None,
        parent_id=comment.parent.id if comment.parent else None)


def instructions_for_agent(text: str, *, mention: str, prefix: str) -> str | None:
    """What the comment asks of the agent, or None when it does not address it: it starts
    with the command prefix (`/sdb rename ...`) or mentions the agent (`@sdb-agent`)."""
    stripped = text.strip()
    if stripped.lower().startswith(prefix.lower()):
        rest = stripped[len(prefix):]
        if not rest or not (rest[0].isalnum() or rest[0] in "-_"):
            return rest.strip() or None
    pattern = re.compile(re.escape(mention) + r"(?![\w-])", re.IGNORECASE)
    if pattern.search(stripped):
        return pattern.sub("", stripped).strip() or None
    return None
