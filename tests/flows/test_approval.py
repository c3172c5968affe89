"""`APPROVAL_MODE=spec`: the run pauses after the spec in Prefect, with a form; approved, it
edits and opens the PR; rejected or not answered in time, it ends with no branch and no commit.
The decision is given through the Prefect API, as the UI's resume form sends it."""

from __future__ import annotations

import contextvars
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.flow_runs import resume_flow_run

from flows.run_result import RunResult
from standins.jira import JiraStandin
from tests.flows.agent import Agent
from tests.flows.test_process_issue_failures import prefect_view

pytestmark = pytest.mark.usefixtures("prefect_api")
BRANCH = "sdb/MAT-101-add-titanium-alloy-ti-6al-4v-to-the"
EMAIL, TOKEN = "agent@example.com", "jira-api-token-approval"


class RunInThread:
    """The flow started in a thread, so the test can answer its pause."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent
        self.result: RunResult | None = None
        self.error: BaseException | None = None
        # the test's context (Prefect's settings: the test server) goes with the run
        self.thread = threading.Thread(target=contextvars.copy_context().run, args=(self._run,),
                                       daemon=True)

    def _run(self) -> None:
        try:
            self.result = self.agent.run()
        except BaseException as exc:  # noqa: BLE001 - reported by finish()
            self.error = exc

    def paused_flow_run(self, seconds: float = 60) -> uuid.UUID:
        """The run's flow run id once Prefect shows it Paused."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            rows = self.agent.runs()
            if rows and rows[-1].flow_run_id:
                with get_client(sync_client=True) as client:
                    state = client.read_flow_run(rows[-1].flow_run_id).state
                if state is not None and state.is_paused():
                    return uuid.UUID(str(rows[-1].flow_run_id))
            assert self.thread.is_alive(), f"the run ended without pausing: {self.error}"
            time.sleep(0.2)
        raise AssertionError("the run did not pause")

    def finish(self) -> RunResult:
        self.thread.join(timeout=120)
        assert not self.thread.is_alive()
        assert self.error is None, self.error
        assert self.result is not None
        return self.result


@pytest.fixture
def approving(agent: Agent) -> Iterator[Callable[..., RunInThread]]:
    def start(**settings: str) -> RunInThread:
        agent.configure(APPROVAL_MODE="spec", **settings)
        agent.script_canned()
        run = RunInThread(agent)
        run.thread.start()
        return run

    yield start


def _llm_kinds(agent: Agent) -> list[Any]:
    return [r.call_type for r in agent.rows("SELECT call_type FROM llm_call_history")]


class TestSpecApproval:
    def test_an_approved_spec_is_edited_into_one_pr(
        self, agent: Agent, approving: Callable[..., RunInThread]
    ) -> None:
        with JiraStandin(EMAIL, TOKEN) as jira:
            jira.add_issue({"key": "MAT-101", "fields": {"summary": "Add Ti-6Al-4V"}})
            agent.configure(JIRA_BASE_URL=jira.base_url, JIRA_EMAIL=EMAIL, JIRA_API_TOKEN=TOKEN)
            run = approving()
            flow_run_id = run.paused_flow_run()
            assert _llm_kinds(agent) == ["spec_conversion"]  # nothing edited while it waits
            assert agent.bitbucket.git.branch_tip(BRANCH) is None
            [waiting] = jira.comment_texts("MAT-101")  # the run's one comment says so
            assert "waiting for its approval" in waiting and str(flow_run_id) in waiting
            resume_flow_run(flow_run_id, run_input={"approve": True})
            result = run.finish()
            [final] = jira.comment_texts("MAT-101")
        assert result["outcome"] == "completed"
        assert len(agent.bitbucket.pull_requests) == 1
        assert agent.runs()[-1].status == "completed"
        assert result["pr"]["url"] in final

    def test_a_rejected_spec_ends_the_run_with_no_branch_and_no_commit(
        self, agent: Agent, approving: Callable[..., RunInThread]
    ) -> None:
        run = approving()
        flow_run_id = run.paused_flow_run()
        resume_flow_run(flow_run_id, run_input={"approve": False, "reason": "wrong alloy"})
        result = run.finish()
        assert result["outcome"] == "rejected"
        row = agent.runs()[-1]
        assert (row.status, row.error_message) == ("failed", "the spec was rejected: wrong alloy")
        state, _ = prefect_view(str(flow_run_id))
        assert (state.type.value, state.name) == ("FAILED", "Rejected")
        assert "wrong alloy" in (state.message or "")
        assert agent.bitbucket.git.branch_tip(BRANCH) is None
        assert not agent.bitbucket.pull_requests
        assert _llm_kinds(agent) == ["spec_conversion"]  # the spec's cost is kept, no edit paid

    def test_no_answer_in_time_fails_the_run_cleanly(
        self, agent: Agent, approving: Callable[..., RunInThread]
    ) -> None:
        run = approving(APPROVAL_TIMEOUT_HOURS="0.0003")  # about a second
        result = run.finish()
        assert result["outcome"] == "rejected"
        row = agent.runs()[-1]
        assert row.status == "failed"
        assert row.error_message == "no approval within 0.0003 hour(s) (APPROVAL_TIMEOUT_HOURS)"
        state, _ = prefect_view(str(row.flow_run_id))
        assert (state.type.value, state.name) == ("FAILED", "Rejected")
        assert "no approval within" in (state.message or "")
        assert agent.bitbucket.git.branch_tip(BRANCH) is None
