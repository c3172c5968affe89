"""The route of a run: the repository and settings an issue's run uses (PROJECTS_FILE).

The flow chooses it once, before the claim, which records the repository; a task that runs
elsewhere finds the same route again from the run's history row. Without PROJECTS_FILE every
run has the single-repository settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from base.errors import ConfigError
from base.projects import load_projects
from base.settings import Settings
from db import issue_runs
from integrations.jira import Issue, parse_issue


@dataclass(frozen=True)
class Routing:
    """A run's settings and repository, or why no route takes its issue."""

    settings: Settings
    repository: str | None
    refusal: str | None = None


def repository_of(settings: Settings) -> str | None:
    """How history names the configured repository: `workspace/repository` or a path."""
    if settings.git_provider == "bitbucket":
        workspace, repository = settings.bitbucket_workspace, settings.bitbucket_repository
        return f"{workspace}/{repository}" if workspace and repository else None
    return str(settings.local_repo_path) if settings.local_repo_path else None


def route_issue(settings: Settings, issue: Issue) -> Routing:
    if settings.projects_file is None:
        return Routing(settings, repository_of(settings))
    route = load_projects(settings.projects_file).route_for(
        issue.project, issue.components, issue.labels)
    if route is None:
        narrowing = "; ".join(f"{name} {', '.join(values)}" for name, values in
                              (("components", issue.components), ("labels", issue.labels))
                              if values)
        return Routing(settings, None, (
            f"no route in PROJECTS_FILE takes {issue.key} (project {issue.project}"
            f"{'; ' + narrowing if narrowing else ''}): nothing was done"))
    return Routing(route.run_settings(settings), route.repository)


def settings_of_run(settings: Settings, engine: Engine, history_id: int) -> Settings:
    """A run's settings found again from its history row; a refused run's are the global
    ones. A route that now leads elsewhere than the run's recorded repository is an error:
    the run must not continue in a second repository."""
    if settings.projects_file is None:
        return settings
    origin = issue_runs.run_origin(engine, history_id)
    if origin is None or not origin.issue_data:
        return settings
    routing = route_issue(settings, parse_issue(origin.issue_data))
    if routing.refusal is not None:
        return settings
    if origin.repository is not None and routing.repository != origin.repository:
        raise ConfigError(f"PROJECTS_FILE changed during run #{history_id}: it routes the "
                          f"issue to {routing.repository}, the run went to "
                          f"{origin.repository}")
    return routing.settings
