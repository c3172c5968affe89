"""The demo's flow with a reasoning model (`LLM_MODEL=gpt-5-mini`) against the strict stand-in,
which refuses what OpenAI refuses and, like vLLM under a Mistral template, any two turns of
one role in a row."""

from __future__ import annotations

import pytest

from tests.flows.agent import Agent, canned

pytestmark = pytest.mark.usefixtures("prefect_api")

SAMPLING = {"temperature", "top_p", "presence_penalty", "frequency_penalty", "max_tokens"}


@pytest.fixture
def reasoning_agent(agent: Agent) -> Agent:
    agent.configure(LLM_MODEL="gpt-5-mini", LLM_REASONING_EFFORT="low")
    agent.llm.strict = True
    agent.llm.alternating_roles = True
    return agent


class TestAReasoningModel:
    def test_the_demo_completes_with_its_pr_priced_calls_and_no_sampling_parameter(
        self, reasoning_agent: Agent
    ) -> None:
        reasoning_agent.script_canned()
        result = reasoning_agent.run()
        assert result["outcome"] == "completed"
        assert len(reasoning_agent.bitbucket.pull_requests) == 1
        assert result["pr"]["url"]
        calls = reasoning_agent.rows(
            "SELECT model, success, estimated_cost, reasoning_tokens FROM llm_call_history")
        assert len(calls) == 4 and all(c.success for c in calls)
        assert {c.model for c in calls} == {"gpt-5-mini"}
        assert all(c.estimated_cost is not None and c.reasoning_tokens > 0 for c in calls)
        requests = reasoning_agent.llm_requests()
        assert len(requests) == 4
        assert all(not SAMPLING & set(r) and r["reasoning_effort"] == "low" for r in requests)

    def test_a_retry_alternates_roles_and_shows_the_model_its_answer(
        self, reasoning_agent: Agent
    ) -> None:
        answers = canned()
        bad = {"edits": [{"search": "no such line\n", "replace": "x\n"}], "summary": "wrong"}
        reasoning_agent.llm.script("issue_spec", answers["issue_spec"])
        reasoning_agent.llm.script("file_edits", bad, path="python/materials.py", times=1)
        for path, reply in answers["file_edits"].items():
            reasoning_agent.llm.script("file_edits", reply, path=path)
        result = reasoning_agent.run()
        file = next(f for f in result["files"] if f["path"] == "python/materials.py")
        assert (result["outcome"], file["status"], file["attempts"]) == (
            "completed", "applied", 2)
        first, retry = [r["messages"] for r in reasoning_agent.llm_requests("file_edits")
                        if "python/materials.py" in r["messages"][1]["content"]]
        assert [m["role"] for m in retry] == ["system", "user", "assistant", "user"]
        assert retry[:2] == first
        assert '"no such line\\n"' in retry[2]["content"]
        assert retry[3]["content"].startswith("Your previous edits failed")
        costs = reasoning_agent.rows("SELECT estimated_cost FROM llm_call_history")
        assert len(costs) == 5 and all(c.estimated_cost is not None for c in costs)
