"""PROJECTS_FILE refuses what would route an issue wrongly, with one line naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from base.errors import ConfigError
from base.projects import load_projects
from base.settings import Settings

TARGETS = "targets:\n  - path: src/MaterialDB.cpp\n    instructions: add the material\n"


def projects_file(tmp_path: Path, routes: str) -> Path:
    (tmp_path / "targets").mkdir(exist_ok=True)
    (tmp_path / "targets" / "mat.yaml").write_text(TARGETS, encoding="utf-8")
    path = tmp_path / "projects.yaml"
    path.write_text("routes:\n" + routes, encoding="utf-8")
    return path


def route(project: str = "MAT", repo: str = "materials", extra: str = "") -> str:
    return (f"  - project: {project}\n    bitbucket: {{workspace: acme, repository: {repo}}}\n"
            f"    targets_file: targets/mat.yaml\n{extra}")


class TestThePathsFile:
    def test_a_valid_file_reads_targets_relative_to_itself(self, tmp_path: Path) -> None:
        config = load_projects(projects_file(tmp_path, route()))
        assert config.routes[0].targets_file == tmp_path / "targets" / "mat.yaml"
        assert config.routes[0].repository == "acme/materials"

    @pytest.mark.parametrize("extra, wrong", [
        ("    reviewer: x\n", "routes.0.reviewer: Extra inputs are not permitted"),
        ("    bitbucket_workspace: x\n", "routes.0.bitbucket_workspace"),
    ])
    def test_an_unknown_key_is_an_error_naming_the_file(self, tmp_path: Path, extra: str,
                                                        wrong: str) -> None:
        path = projects_file(tmp_path, route(extra=extra))
        with pytest.raises(ConfigError) as refused:
            load_projects(path)
        assert str(refused.value).startswith(f"PROJECTS_FILE {path} is invalid: ")
        assert wrong in str(refused.value)

    def test_two_routes_for_the_same_issues_are_an_error_naming_both(self,
                                                                     tmp_path: Path) -> None:
        path = projects_file(tmp_path, route(repo="one") + route(extra="    component: ui\n")
                             + route(repo="two"))
        with pytest.raises(ConfigError) as refused:
            load_projects(path)
        assert ("routes 0 (MAT -> acme/one) and 2 (MAT -> acme/two) route the same issues"
                in str(refused.value))

    def test_narrowings_that_differ_only_in_case_are_the_same(self, tmp_path: Path) -> None:
        path = projects_file(tmp_path, route(extra="    label: Urgent\n")
                             + route(repo="b", extra="    label: urgent\n"))
        with pytest.raises(ConfigError, match="route the same issues"):
            load_projects(path)

    def test_a_missing_targets_file_is_an_error_naming_the_route(self, tmp_path: Path) -> None:
        path = projects_file(tmp_path, route().replace("targets/mat.yaml", "targets/no.yaml"))
        with pytest.raises(ConfigError) as refused:
            load_projects(path)
        assert str(refused.value) == (
            f"PROJECTS_FILE {path}: routes 0 (MAT -> acme/materials): TARGETS_FILE "
            f"{tmp_path / 'targets' / 'no.yaml'} does not exist")

    @pytest.mark.parametrize("routes, wrong", [
        ("  - project: MAT\n    targets_file: targets/mat.yaml\n", "exactly one repository"),
        (route(extra="    local_repo_path: /srv/repo\n"), "exactly one repository"),
        (route(project="mat"), "routes.0.project"),
        (route(repo="a/b"), "routes.0.bitbucket.repository"),
        ("  []\n", "lists no route"),
    ])
    def test_a_route_that_names_no_single_repository_is_refused(
        self, tmp_path: Path, routes: str, wrong: str
    ) -> None:
        path = projects_file(tmp_path, routes)
        with pytest.raises(ConfigError, match=wrong):
            load_projects(path)

    def test_a_missing_file_and_bad_yaml_name_the_file(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="PROJECTS_FILE .* does not exist"):
            load_projects(tmp_path / "nope.yaml")
        path = tmp_path / "bad.yaml"
        path.write_text("routes: [oops\n", encoding="utf-8")
        with pytest.raises(ConfigError, match=r"PROJECTS_FILE .* is not valid YAML: line "):
            load_projects(path)


class TestChoosingARoute:
    @pytest.fixture
    def config_path(self, tmp_path: Path) -> Path:
        return projects_file(tmp_path, route(repo="all")
                             + route(repo="ui", extra="    component: UI\n")
                             + route(repo="hot", extra="    label: hotfix\n")
                             + route(repo="ui-hot", extra="    component: UI\n"
                                                         "    label: hotfix\n")
                             + route(project="OPS", repo="ops"))

    @pytest.mark.parametrize("project, components, labels, repo", [
        ("MAT", (), (), "acme/all"),
        ("MAT", ("ui",), (), "acme/ui"),
        ("MAT", ("Backend",), ("hotfix",), "acme/hot"),
        ("MAT", ("UI",), ("HotFix", "x"), "acme/ui-hot"),
        ("OPS", ("UI",), ("hotfix",), "acme/ops"),
        ("HR", (), (), None),
        (None, (), (), None),
    ])
    def test_the_narrowest_matching_route_wins(
        self, config_path: Path, project: str | None, components: tuple[str, ...],
        labels: tuple[str, ...], repo: str | None
    ) -> None:
        found = load_projects(config_path).route_for(project, components, labels)
        assert (found.repository if found else None) == repo

    def test_a_route_overrides_its_runs_settings_and_keeps_the_global_day_budget(
        self, tmp_path: Path
    ) -> None:
        path = projects_file(tmp_path, route(extra=(
            "    base_branch: develop\n    llm_budget_per_run_usd: 0.5\n"
            "    pr_reviewers: ['{a}', '{b}']\n"
            "    jira_transition_on_pr: In Review\n")))
        settings = Settings.from_values({"LLM_BUDGET_PER_DAY_USD": "10",
                                         "JIRA_TRANSITION_ON_FAILURE": "Blocked",
                                         "BITBUCKET_API_URL": "https://bb.example/2.0"})
        routed = load_projects(path).routes[0].run_settings(settings)
        assert (routed.git_provider, routed.bitbucket_workspace, routed.bitbucket_repository,
                routed.bitbucket_api_url) == ("bitbucket", "acme", "materials",
                                              "https://bb.example/2.0")
        assert routed.targets_file == tmp_path / "targets" / "mat.yaml"
        assert routed.base_branch == "develop"
        assert routed.llm_budget_per_run_usd == 0.5
        assert routed.llm_budget_per_day_usd == 10  # the global day: across every route
        assert routed.pr_reviewer_list == ["{a}", "{b}"]
        assert (routed.jira_transition_on_pr, routed.jira_transition_on_failure) == (
            "In Review", "Blocked")
        assert settings.targets_file is None  # the global settings are left alone
