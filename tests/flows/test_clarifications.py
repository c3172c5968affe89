"""A clarifying comment is new input: a retry after it writes a new spec from it and updates
the same branch and pull request; the agent's own comments and commands are not input."""

from __future__ import annotations

import copy
from typing import Any

from standins.faults import Status
from standins.jira import JiraStandin
from tests.flows.agent import Agent


def with_comments(agent: Agent, *comments: tuple[str, str]) -> dict[str, Any]:
    """The demo issue as the REST API gives it, with these (author, text) comments."""
    payload = copy.deepcopy(agent.payload)
    payload["issue"]["fields"]["comment"] = {"startAt": 0, "total": len(comments), "comments": [
        {"id": str(100 + n), "author": {"accountId": author}, "body": text,
         "created": f"2026-11-0{n + 1}T09:00:00.000+0000"}
        for n, (author, text) in enumerate(comments)]}
    return payload


def spec_prompt(agent: Agent) -> str:
    content: str = agent.llm_requests("issue_spec")[-1]["messages"][1]["content"]
    return content


def test_a_retry_after_a_clarifying_comment_updates_the_same_branch_and_pr(
    agent: Agent
) -> None:
    agent.configure(JIRA_ACCOUNT_ID="agent-account")
    agent.script_canned()
    first = agent.run()
    assert first["outcome"] == "completed"

    unchanged = agent.run(issue=with_comments(
        agent, ("agent-account", "Opened the pull request"), ("reporter", "/sdb retry")))
    assert unchanged["outcome"] == "already_completed"  # nothing new to read

    again = agent.run(issue=with_comments(
        agent, ("agent-account", "Opened the pull request"),
        ("reporter", "The Python copy keeps its comment in English"),
        ("reporter", "/sdb retry")))
    assert again["outcome"] == "completed", again
    prompt = spec_prompt(agent)
    assert "keeps its comment in English" in prompt
    assert "Opened the pull request" not in prompt and "/sdb retry" not in prompt
    assert prompt.index("Ti-6Al-4V (code TI64)") < prompt.index("keeps its comment")
    assert again["branch"] == first["branch"] == agent.branch_name()
    assert again["pr"]["url"] == first["pr"]["url"]
    assert len(agent.bitbucket.pull_requests) == 1
    assert len(agent.llm_requests("issue_spec")) == 2


def test_when_jira_cannot_say_who_the_agent_is_its_comment_is_known_by_its_id(
    agent: Agent
) -> None:
    with JiraStandin("agent@example.com", "jira-token-who") as jira:
        jira.add_issue({"key": "MAT-101", "fields": {"summary": "Add Ti-6Al-4V"}})
        agent.configure(JIRA_BASE_URL=jira.base_url, JIRA_EMAIL="agent@example.com",
                        JIRA_API_TOKEN="jira-token-who")
        jira.faults.add("GET /myself", Status(503), times=50)  # Jira cannot say, every time
        agent.script_canned()
        assert agent.run()["outcome"] == "completed"
        own = agent.runs()[-1].jira_comment_id
        assert own is not None
        payload = with_comments(agent, ("someone", "Opened the pull request"),
                                ("reporter", "The Python copy keeps its comment in English"))
        payload["issue"]["fields"]["comment"]["comments"][0]["id"] = own  # the run's comment
        again = agent.run(issue=payload)
    assert again["outcome"] == "completed", again  # Jira trouble never fails the run
    prompt = spec_prompt(agent)
    assert "keeps its comment in English" in prompt and "Opened the pull request" not in prompt
