"""revise-pull-request end to end: the agent's PR on the Bitbucket emulator, a review comment,
the LLM stand-in, real PostgreSQL and a real Prefect API."""

from __future__ import annotations

from typing import Any

import pytest
from prefect.client.schemas.objects import State

from flows.revise_pull_request import revise_pull_request
from integrations.bitbucket_events import ReviewComment, parse_comment_created
from standins.bitbucket_comments import Account, Comment
from tests.flows.agent import Agent

pytestmark = pytest.mark.usefixtures("prefect_api")
CPP = "src/MaterialDB.cpp"
KIM = Account.named("kim")
OLD, NEW = '"무산소 구리" },', '"무산소 동 (C10100)" },'
REVISION_PROMPT = f"{CPP}:\n<line>"  # only the revision's prompt quotes the commented line


def opened(agent: Agent, **settings: str) -> int:
    """The agent's PR for the demo issue, opened with these settings; its id."""
    agent.configure(REVIEWERS_ALLOWED=KIM.nickname, **settings)
    agent.script_canned()
    assert agent.run()["outcome"] == "completed"
    (pr_id,) = agent.bitbucket.pull_requests
    return pr_id


def revise(agent: Agent, comment: Comment) -> tuple[State, Any]:
    review = parse_comment_created(agent.bitbucket.comment_event(comment))
    state = revise_pull_request(comment=review, return_state=True)
    run = agent.runs()[-1]
    return state, run


def replies(agent: Agent, pr_id: int, comment: Comment) -> list[str]:
    return [c.raw for c in agent.bitbucket.comments.of(pr_id) if c.parent == comment.id]


def test_an_inline_comment_makes_one_commit_with_exact_bytes_and_a_reply(agent: Agent) -> None:
    pr_id = opened(agent, PR_DRAFT="true", PR_REVIEWERS="{reviewer-1},557058:lead")
    pr = agent.bitbucket.pull_requests[pr_id]
    assert pr.draft and pr.reviewers == ("{reviewer-1}", "557058:lead")
    branch = agent.branch_name()
    before, tip = agent.bitbucket.file_at(branch, CPP), agent.bitbucket.branch_tip(branch)
    agent.llm.script("file_edits", {"edits": [{"search": OLD, "replace": NEW}],
                                    "summary": "CU101 is called 무산소 동"},
                     path=REVISION_PROMPT)
    comment = agent.bitbucket.comment(pr_id, "/sdb call it 무산소 동 (C10100)", KIM,
                                      inline={"path": CPP, "to": 11, "from": None})
    state, run = revise(agent, comment)
    assert state.is_completed(), state.message
    commits = agent.bitbucket.commits_on(branch, since=tip)
    assert len(commits) == 1
    after = agent.bitbucket.file_at(branch, CPP)
    assert after == before.replace(OLD.encode("cp949"), NEW.encode("cp949")) != before
    prompt = agent.llm_requests("file_edits")[-1]["messages"][1]["content"]
    assert "call it 무산소 동" in prompt and '"무산소 구리"' in prompt.split("<line>")[1]
    (reply,) = replies(agent, pr_id, comment)
    assert commits[0].hash[:12] in reply and CPP in reply and "@sdb-agent" not in reply
    assert (run.run_kind, run.parent_history_id, run.status) == ("revision", 1, "completed")
    rows = agent.rows("SELECT file_path, outcome FROM file_modification_history "
                      "WHERE history_id = :id", id=run.id)
    assert [tuple(r) for r in rows] == [(CPP, "applied")]
    assert agent.rows("SELECT count(*) FROM llm_call_history WHERE history_id = :id",
                      id=run.id)[0][0] == 1
    again, _ = revise(agent, comment)  # the same comment once more: taken already
    assert again.name == "AlreadyRevised" and len(agent.bitbucket.commits_on(branch, tip)) == 1


@pytest.mark.parametrize(("text", "inline", "who", "expected"), [
    ("/sdb also edit src/Other.cpp", None, KIM, "src/Other.cpp is not a target file"),
    ("/sdb tidy this", {"path": "README.md", "to": 1}, KIM, "README.md is not a target file"),
    ("/sdb rename it in MaterialDB.cpp", None, Account.named("eve"),
     "Eve is not in REVIEWERS_ALLOWED"),
])
def test_a_refused_comment_is_recorded_and_answered_and_commits_nothing(
        agent: Agent, text: str, inline: dict[str, object] | None, who: Account,
        expected: str) -> None:
    pr_id = opened(agent)
    tip = agent.bitbucket.branch_tip(agent.branch_name())
    comment = agent.bitbucket.comment(pr_id, text, who, inline=inline)
    state, run = revise(agent, comment)
    assert state.is_failed() and expected in str(state.message)
    assert (run.run_kind, run.status) == ("revision", "failed") and expected in run.error_message
    assert agent.bitbucket.branch_tip(agent.branch_name()) == tip
    assert [expected in r for r in replies(agent, pr_id, comment)] == [True]
    assert len(agent.llm_requests("file_edits")) == 3  # the first run's only


def test_a_comment_on_a_deleted_branch_is_refused(agent: Agent) -> None:
    pr_id = opened(agent)
    agent.bitbucket.git.delete_branch(agent.branch_name())
    comment = agent.bitbucket.comment(pr_id, "@sdb-agent fix MaterialDB.cpp", KIM)
    state, run = revise(agent, comment)
    assert state.is_failed() and "no longer exists" in run.error_message
    assert "no longer exists" in replies(agent, pr_id, comment)[0]


def test_without_reviewers_allowed_write_access_decides(agent: Agent) -> None:
    pr_id = opened(agent)
    agent.configure(REVIEWERS_ALLOWED=None)
    comment = agent.bitbucket.comment(pr_id, "/sdb docs/guide.md too", KIM)
    _, run = revise(agent, comment)
    assert "has no write access" in run.error_message
    agent.bitbucket.grant(KIM, "write")
    comment = agent.bitbucket.comment(pr_id, "/sdb docs/guide.md too", KIM)
    _, run = revise(agent, comment)
    assert "docs/guide.md is not a target file" in run.error_message  # past the access check


def test_the_review_comment_model_is_what_the_flow_takes(agent: Agent) -> None:
    pr_id = opened(agent)
    comment = agent.bitbucket.comment(pr_id, "/sdb x", KIM, inline={"path": CPP, "to": 3})
    review = parse_comment_created(agent.bitbucket.comment_event(comment))
    assert ReviewComment.model_validate(review.model_dump()) == review
    assert (review.path, review.line, review.author_uuid) == (CPP, 3, KIM.uuid)
