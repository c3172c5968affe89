"""The start-up check of PROJECTS_FILE: one line per route, a route the token cannot reach
stops the start."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from base.errors import ConfigError
from cli.app import app
from standins.bitbucket import BitbucketEmulator
from tasks.route_check import check_routes, route_report
from tests.flows.agent import Agent, sample_files


def write_projects(agent: Agent, tmp_path: Path, *routes: tuple[str, str, str]) -> None:
    path = tmp_path / "projects.yaml"
    path.write_text("routes:\n" + "".join(
        f"  - project: {project}\n    targets_file: {agent.targets_file}\n"
        f"    bitbucket: {{workspace: acme, repository: {repo}, api_url: '{url}'}}\n"
        for project, repo, url in routes), encoding="utf-8")
    agent.configure(PROJECTS_FILE=str(path))


def test_every_route_is_reported_on_its_own_line(agent: Agent, tmp_path: Path) -> None:
    other = BitbucketEmulator.create_repository(tmp_path / "other.git", sample_files())
    with BitbucketEmulator(other, "acme", "ops", access_token="another-token") as locked:
        write_projects(agent, tmp_path, ("MAT", "materials", agent.bitbucket.base_url),
                       ("OPS", "ops", locked.base_url),
                       ("HR", "missing", agent.bitbucket.base_url))
        report = route_report(agent.runtime.settings)
        with pytest.raises(ConfigError) as refused:
            check_routes(agent.runtime.settings)
    assert [ok for ok, _ in report] == [True, False, False]
    assert report[0][1] == "MAT -> acme/materials: reachable, base branch main"
    assert report[1][1].startswith("OPS -> acme/ops: NOT reachable: ")
    assert report[2][1].startswith("HR -> acme/missing: NOT reachable: ")
    assert str(refused.value) == "PROJECTS_FILE: " + "; ".join(line for _, line in report)


def test_reachable_routes_give_their_lines(agent: Agent, tmp_path: Path) -> None:
    write_projects(agent, tmp_path, ("MAT", "materials", agent.bitbucket.base_url))
    assert check_routes(agent.runtime.settings) == [
        "MAT -> acme/materials: reachable, base branch main"]
    agent.configure(PROJECTS_FILE=None)
    assert check_routes(agent.runtime.settings) == []


def test_the_check_routes_command_prints_each_route_and_fails_on_an_unreachable_one(
    agent: Agent, tmp_path: Path
) -> None:
    write_projects(agent, tmp_path, ("MAT", "materials", agent.bitbucket.base_url),
                   ("HR", "missing", agent.bitbucket.base_url))
    result = CliRunner().invoke(app, ["check-routes"])
    assert result.exit_code == 1
    assert result.stdout == "MAT -> acme/materials: reachable, base branch main\n"
    assert result.stderr.startswith("HR -> acme/missing: NOT reachable: ")
    assert len(result.stderr.splitlines()) == 1
    write_projects(agent, tmp_path, ("MAT", "materials", agent.bitbucket.base_url))
    assert CliRunner().invoke(app, ["check-routes"]).exit_code == 0
    agent.configure(PROJECTS_FILE=None)
    unset = CliRunner().invoke(app, ["check-routes"])
    assert unset.exit_code == 0 and unset.stdout.startswith("PROJECTS_FILE is unset")
