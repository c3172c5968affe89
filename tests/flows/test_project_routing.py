"""PROJECTS_FILE: two projects' issues go to two repositories with their own targets, and an
issue no route takes is refused on the record (and on the issue), never guessed."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from standins.bitbucket import BitbucketEmulator
from standins.jira import JiraStandin
from tests.flows.agent import TOKEN, Agent, canned, sample_files

OPS_TARGETS = ("targets:\n  - path: python/materials.py\n"
               "    instructions: Add the new material to MATERIALS.\n")


@pytest.fixture
def ops_repo(agent: Agent, tmp_path: Path) -> Iterator[BitbucketEmulator]:
    repo = BitbucketEmulator.create_repository(tmp_path / "ops.git", sample_files())
    with BitbucketEmulator(repo, "acme", "ops-tools", access_token=TOKEN) as bitbucket:
        (tmp_path / "ops-targets.yaml").write_text(OPS_TARGETS, encoding="utf-8")
        projects = tmp_path / "projects.yaml"
        projects.write_text(
            "routes:\n"
            f"  - project: MAT\n    targets_file: {agent.targets_file}\n"
            f"    bitbucket: {{workspace: acme, repository: materials, "
            f"api_url: '{agent.bitbucket.base_url}'}}\n"
            "  - project: OPS\n    targets_file: ops-targets.yaml\n"
            "    pr_reviewers: ['{ops-lead}']\n"
            f"    bitbucket: {{workspace: acme, repository: ops-tools, "
            f"api_url: '{bitbucket.base_url}'}}\n", encoding="utf-8")
        agent.configure(PROJECTS_FILE=str(projects), BITBUCKET_WORKSPACE=None,
                        BITBUCKET_REPOSITORY=None)
        yield bitbucket


def issue_of(agent: Agent, key: str, project: str) -> dict[str, Any]:
    payload = copy.deepcopy(agent.payload)
    payload["issue"]["key"] = key
    payload["issue"]["fields"]["project"] = {"key": project}
    return payload


def test_two_projects_go_to_their_own_repositories_with_their_own_targets(
    agent: Agent, ops_repo: BitbucketEmulator
) -> None:
    agent.script_canned()
    mat = agent.run()
    ops = agent.run(issue=issue_of(agent, "OPS-7", "OPS"))
    assert mat["outcome"] == ops["outcome"] == "completed"
    assert [f["path"] for f in mat["files"]] == list(canned()["file_edits"])
    assert [f["path"] for f in ops["files"]] == ["python/materials.py"]
    mat_pr = agent.bitbucket.pull_requests[1]
    [ops_pr] = ops_repo.pull_requests.values()
    assert mat_pr.source == mat["branch"] and ops_pr.source == ops["branch"]
    assert ops_pr.reviewers == ("{ops-lead}",)
    assert ops_repo.branch_tip(ops["branch"]) is not None
    assert agent.bitbucket.branch_tip(ops["branch"]) is None  # nothing of OPS in materials
    rows = agent.rows("SELECT issue_key, project_key, repository FROM issue_processing_history "
                      "ORDER BY id")
    assert [tuple(r) for r in rows] == [("MAT-101", "MAT", "acme/materials"),
                                        ("OPS-7", "OPS", "acme/ops-tools")]


def test_an_unrouted_project_is_refused_on_the_record_and_on_the_issue(
    agent: Agent, ops_repo: BitbucketEmulator
) -> None:
    with JiraStandin("agent@example.com", "jira-token") as jira:
        jira.add_issue({"key": "HR-3", "fields": {"summary": "Hire"}})
        agent.configure(JIRA_BASE_URL=jira.base_url, JIRA_EMAIL="agent@example.com",
                        JIRA_API_TOKEN="jira-token")
        payload = issue_of(agent, "HR-3", "HR")
        payload["issue"]["fields"]["components"] = [{"name": "Payroll"}]
        result = agent.run(issue=payload)
        assert result["outcome"] == "refused"
        assert result["reason"] == ("no route in PROJECTS_FILE takes HR-3 (project HR; "
                                    "components Payroll; labels sdb-agent): nothing was done")
        [text] = jira.comment_texts("HR-3")
        assert "no route in PROJECTS_FILE takes HR-3" in text
        assert "route this project in PROJECTS_FILE" in text
    assert agent.llm_requests() == []
    [run] = agent.runs()
    assert (run.status, run.project_key, run.repository) == ("failed", "HR", None)
    assert run.error_message == result["reason"]
    assert agent.bitbucket.requests == [] and ops_repo.requests == []
