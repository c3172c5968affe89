"""Issue transitions as the Jira stand-in offers them: which transitions each status has.

"Get transitions" (developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/
#api-rest-api-3-issue-issueidorkey-transitions-get) returns the transitions "that can be
performed by the user on an issue, based on the issue's status", each `{id, name, to}`;
"Transition issue" (POST, same page) takes `{"transition": {"id": "..."}}` and answers 204.
The default is the simplified workflow of a Jira Software project (To Do, In Progress, In
Review, Done, any status to any other); its ids are the stand-in's choice.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Transition:
    id: str
    name: str
    to: str  # the status the issue is in afterwards

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "hasScreen": False, "isGlobal": True,
                "isInitial": False, "isConditional": False,
                "to": {"name": self.to, "statusCategory": {"name": self.to}}}


_SIMPLIFIED = (("11", "To Do"), ("21", "In Progress"), ("31", "In Review"), ("41", "Done"))
DEFAULT_WORKFLOW: dict[str, tuple[Transition, ...]] = {
    status: tuple(Transition(tid, name, name) for tid, name in _SIMPLIFIED if name != status)
    for _, status in _SIMPLIFIED
}
