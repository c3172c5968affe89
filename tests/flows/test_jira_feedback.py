"""The run's one Jira comment: written when the run starts, edited when it ends, edited
again by a rerun of the same issue content; transitions by name; Jira down changes nothing
but the history of its calls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from base.errors import PermanentError
from standins.faults import Status
from standins.jira import JiraStandin, Transition
from tests.flows.agent import Agent

EMAIL, TOKEN = "agent@example.com", "jira-api-token-789"


@pytest.fixture
def jira(agent: Agent) -> Iterator[JiraStandin]:
    with JiraStandin(EMAIL, TOKEN) as server:
        server.add_issue({"key": "MAT-101", "fields": {"summary": "Add Ti-6Al-4V"}})
        agent.configure(JIRA_BASE_URL=server.base_url, JIRA_EMAIL=EMAIL, JIRA_API_TOKEN=TOKEN)
        yield server


def test_a_failed_run_and_its_retry_edit_one_comment_and_move_the_issue(
    agent: Agent, jira: JiraStandin
) -> None:
    jira.set_transitions("To Do", Transition("61", "Needs info", "Blocked"))
    jira.set_transitions("Blocked", Transition("31", "In Review", "In Review"))
    agent.configure(JIRA_TRANSITION_ON_FAILURE="Needs info", JIRA_TRANSITION_ON_PR="in review")
    written: list[tuple[str, str]] = []
    jira.watch_comments(lambda key, action, text: written.append((action, text)))

    agent.llm.faults.add("POST /chat/completions", Status(400), times=1)
    with pytest.raises(PermanentError):  # the spec could not be written: the run raises
        agent.run()
    [text] = jira.comment_texts("MAT-101")
    assert "could not finish" in text and "What to do:" in text and "LLM cost:" in text
    assert jira.status_of("MAT-101") == "Blocked"

    agent.script_canned()
    done = agent.run()  # the same content: a retry, not a new issue
    assert done["outcome"] == "completed"
    [text] = jira.comment_texts("MAT-101")
    assert done["pr"]["url"] in text and "python/materials.py: changed" in text
    assert "LLM cost: $" in text and "could not finish" not in text
    assert jira.status_of("MAT-101") == "In Review"
    assert [action for action, _ in written] == ["added", "edited", "edited", "edited"]
    assert "working on this issue" in written[0][1] and "working on" in written[2][1]
    ids = {r.jira_comment_id for r in agent.runs()}
    assert ids == {jira.comments("MAT-101")[0]["id"]}


def test_a_transition_the_status_does_not_offer_is_a_note_not_a_failure(
    agent: Agent, jira: JiraStandin
) -> None:
    agent.configure(JIRA_TRANSITION_ON_PR="Ship it")
    agent.script_canned()
    result = agent.run()
    assert result["outcome"] == "completed"
    [text] = jira.comment_texts("MAT-101")
    assert 'Note: the transition "Ship it" is not available' in text
    assert jira.status_of("MAT-101") == "To Do"


def test_jira_down_still_makes_the_pr_and_records_the_failed_calls(
    agent: Agent, jira: JiraStandin
) -> None:
    jira.faults.add("*", Status(503), times=100)
    agent.configure(JIRA_TRANSITION_ON_PR="In Review")
    agent.script_canned()
    result = agent.run()
    assert result["outcome"] == "completed" and len(agent.bitbucket.pull_requests) == 1
    assert jira.comments("MAT-101") == []
    calls = agent.rows("SELECT history_id, api_method, endpoint, status_code, error_message "
                       "FROM jira_api_history ORDER BY id")
    assert {c.history_id for c in calls} == {result["history_id"]}
    assert {(c.api_method, c.endpoint) for c in calls} == {
        ("POST", "/rest/api/3/issue/{issueIdOrKey}/comment"),
        ("GET", "/rest/api/3/issue/{issueIdOrKey}/transitions")}
    assert all(c.status_code == 503 and "503" in c.error_message for c in calls)
    assert agent.runs()[-1].jira_comment_id is None
