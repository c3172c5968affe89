"""What a Jira event asks of the agent: who caused it, what it changed, what it commands.

The rules follow Jira Cloud "Webhooks" (developer.atlassian.com/cloud/jira/platform/webhooks/):
`jira:issue_updated` names who made the change in `user` and what changed in
`changelog.items[]` (`field`, `fieldId`, `fromString`, `toString`; labels as space-separated
strings); `comment_created` carries the `comment` (`id`, `author`, `body`, `created`) and a
short `issue`. A comment also raises `jira:issue_updated` with that `comment` and no
changelog, so only `comment_created` is read for commands and a comment never starts two runs.

So: an event the agent's own account caused is ignored (it must not talk to itself); an
update starts a run only when it changes what the agent reads (summary, description, issue
type, project, or adds the trigger label); a new comment starts one only when it is a
command (`AGENT_COMMAND_PREFIX retry`). Any other comment is read by the next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from base.errors import InvalidResponse
from base.settings import Settings
from deployments.http.webhook_checks import COMMENT_CREATED
from integrations.jira import Comment, Issue, account_ids, command_of, parse_comment
from integrations.jira_identity import configured_site

ISSUE_CREATED, ISSUE_UPDATED = "jira:issue_created", "jira:issue_updated"
READ_FIELDS = frozenset({"summary", "description", "issuetype", "project"})
COMMANDS = ("retry",)
_Name = Annotated[str, Field(max_length=255)]


class _ChangeItem(BaseModel):
    model_config = ConfigDict(extra="ignore")
    field: _Name | None = None
    field_id: Annotated[_Name | None, Field(alias="fieldId")] = None
    before: Annotated[str | None, Field(alias="fromString")] = None
    after: Annotated[str | None, Field(alias="toString")] = None

    def name(self) -> str:
        """`fieldId` (Cloud), else `field` (Data Center has no `fieldId`)."""
        return (self.field_id or self.field or "").lower()


class _Changelog(BaseModel):
    model_config = ConfigDict(extra="ignore")
    items: list[_ChangeItem] = Field(default_factory=list)


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore")
    user: dict[str, Any] | None = None
    changelog: _Changelog | None = None
    comment: dict[str, Any] | None = None


@dataclass(frozen=True)
class EventFacts:
    event: str | None
    actor_ids: frozenset[str]  # who caused it: the comment's author, else `user`
    changes: tuple[_ChangeItem, ...]
    comment: Comment | None


def event_facts(payload: dict[str, Any]) -> EventFacts:
    """The parts of an event the rules read; InvalidResponse naming a misshapen one."""
    try:
        event = _Event.model_validate(payload)
    except ValidationError as exc:
        error = exc.errors(include_url=False, include_input=False)[0]
        raise InvalidResponse(".".join(str(p) for p in error["loc"]) + f": {error['msg']}") \
            from None
    comment = parse_comment(event.comment) if event.comment is not None else None
    actor = comment.author_ids if comment is not None else (
        account_ids(event.user, "user") if event.user is not None else frozenset())
    return EventFacts(event=payload.get("webhookEvent"), actor_ids=actor, comment=comment,
                      changes=tuple(event.changelog.items) if event.changelog else ())


def own_event(facts: EventFacts, agent: frozenset[str]) -> str | None:
    """Why an event the agent's account caused is ignored, or None."""
    if not facts.actor_ids & agent:
        return None
    what = "comment" if facts.event == COMMENT_CREATED else "change"
    return f"the agent's own {what} (its Jira account, JIRA_ACCOUNT_ID or /myself)"


def ignored_trigger(settings: Settings, facts: EventFacts) -> str | None:
    """Why the event asks for no run, or None: updates that change nothing the agent reads,
    comments that are no command."""
    if facts.event == COMMENT_CREATED:
        return _ignored_comment(settings, facts.comment)
    if facts.event == ISSUE_UPDATED:
        changed = [item.name() for item in facts.changes]
        if any(name in READ_FIELDS for name in changed) or _label_added(settings, facts):
            return None
        listed = ", ".join(dict.fromkeys(changed))[:120] or "no field"
        return f"the update changes nothing the agent reads ({listed})"
    if facts.event is not None and facts.event.startswith("comment_"):
        return f"{facts.event}: only a new comment carries a command"
    return None


def _ignored_comment(settings: Settings, comment: Comment | None) -> str | None:
    prefix = settings.agent_command_prefix
    if comment is None:
        return "a comment_created event without its comment"
    verb = command_of(comment.text, prefix)
    if verb is None:
        return f"a comment without a {prefix} command: the next run reads it as a clarification"
    if verb not in COMMANDS:
        return f"{prefix} {verb[:40]!r} is no command; known: {', '.join(COMMANDS)}"
    if configured_site(settings) is None:
        return (f"{prefix} {verb} needs the issue read from Jira: set JIRA_BASE_URL and its "
                "credentials")
    return None


def _label_added(settings: Settings, facts: EventFacts) -> bool:
    label = settings.webhook_trigger_label
    return bool(label) and any(
        item.name() == "labels" and label in (item.after or "").split()
        and label not in (item.before or "").split() for item in facts.changes)


def run_parameters(settings: Settings, payload: dict[str, Any], issue: Issue,
                   facts: EventFacts) -> dict[str, Any]:
    """The flow's parameters: the body itself, or only the key when the body lacks what the
    run reads (a comment event's short issue; an update's comments) and Jira can be asked.
    A new issue has no comments yet, so its body is complete."""
    by_key = facts.comment is not None or (
        not issue.comments_read and facts.event != ISSUE_CREATED
        and configured_site(settings) is not None)
    return {"issue_key": issue.key} if by_key else {"issue": payload}
