"""The routing of Jira projects to repositories (`PROJECTS_FILE`, YAML).

A route names a Jira project (optionally narrowed by a component, a label or both), the
repository its issues go to, that repository's targets file, and the per-run budget,
reviewers and Jira transitions of its runs. Unknown keys, two routes for the same project
and narrowing, and a targets file that does not load are errors naming the file, found
before any spend.
An issue that no route takes is refused, never sent to a guessed repository.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from base.errors import ConfigError
from base.settings import Settings
from base.targets import load_targets, validation_problems, yaml_problem

PROJECT_KEY_PATTERN = r"^[A-Z][A-Z0-9_]*$"
REPOSITORY_PATTERN = "^[^\\x00]+$"  # `workspace/repository` or a local path: no NUL
_SLUG = r"^[A-Za-z0-9._-]+$"

# How a filter by route names its project and repository (the read API, the cost report)
ProjectKey = Annotated[str, Field(pattern=PROJECT_KEY_PATTERN, max_length=50)]
RepositoryName = Annotated[str, Field(min_length=1, max_length=300,
                                      pattern=REPOSITORY_PATTERN)]


class BitbucketRepository(BaseModel):
    """A Bitbucket Cloud repository; the API URL is BITBUCKET_API_URL unless given."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workspace: str = Field(pattern=_SLUG, max_length=100)
    repository: str = Field(pattern=_SLUG, max_length=100)
    api_url: str | None = None

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        parts = urlsplit(value or "")
        if value is not None and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise ValueError(f"{value[:80]!r} is not an http(s) URL with a host")
        return value


class Route(BaseModel):
    """One project's (or one component's or label's) repository and run settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    project: ProjectKey
    component: str | None = Field(default=None, min_length=1)
    label: str | None = Field(default=None, min_length=1)
    bitbucket: BitbucketRepository | None = None
    local_repo_path: Path | None = None
    base_branch: str | None = Field(default=None, min_length=1)
    targets_file: Path
    llm_budget_per_run_usd: float | None = Field(default=None, gt=0)
    pr_reviewers: tuple[str, ...] | None = None
    jira_transition_on_pr: str | None = None
    jira_transition_on_failure: str | None = None

    @model_validator(mode="after")
    def _one_repository(self) -> Route:
        if (self.bitbucket is None) == (self.local_repo_path is None):
            raise ValueError("name exactly one repository: bitbucket or local_repo_path")
        return self

    @property
    def narrowing(self) -> tuple[str, str | None, str | None]:
        return self.project, _folded(self.component), _folded(self.label)

    @property
    def repository(self) -> str:
        """How history names the repository: `workspace/repository`, or the local path."""
        if self.bitbucket is not None:
            return f"{self.bitbucket.workspace}/{self.bitbucket.repository}"
        return str(self.local_repo_path)

    @property
    def described(self) -> str:
        narrowed = "".join(f" {name}={value}" for name, value in
                           (("component", self.component), ("label", self.label)) if value)
        return f"{self.project}{narrowed} -> {self.repository}"

    def matches(self, project: str, components: frozenset[str], labels: frozenset[str]) -> bool:
        return (project == self.project
                and (self.component is None or _folded(self.component) in components)
                and (self.label is None or _folded(self.label) in labels))

    def run_settings(self, settings: Settings) -> Settings:
        """The settings of this route's runs: the global ones with the route's over them.
        The global daily budget (LLM_BUDGET_PER_DAY_USD) is kept: it holds across routes."""
        update: dict[str, Any] = {"targets_file": self.targets_file,
                                  "base_branch": self.base_branch}
        if self.bitbucket is not None:
            update |= {"git_provider": "bitbucket",
                       "bitbucket_workspace": self.bitbucket.workspace,
                       "bitbucket_repository": self.bitbucket.repository,
                       "bitbucket_api_url": self.bitbucket.api_url or settings.bitbucket_api_url}
        else:
            update |= {"git_provider": "local", "local_repo_path": self.local_repo_path}
        if self.llm_budget_per_run_usd is not None:
            update["llm_budget_per_run_usd"] = self.llm_budget_per_run_usd
        if self.pr_reviewers is not None:
            update["pr_reviewers"] = ",".join(self.pr_reviewers)
        for name in ("jira_transition_on_pr", "jira_transition_on_failure"):
            if getattr(self, name) is not None:
                update[name] = getattr(self, name)
        return settings.model_copy(update=update)


def _folded(value: str | None) -> str | None:
    return value.casefold() if value is not None else None


class ProjectsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    routes: tuple[Route, ...]

    @field_validator("routes")
    @classmethod
    def _one_route_per_narrowing(cls, value: tuple[Route, ...]) -> tuple[Route, ...]:
        if not value:
            raise ValueError("lists no route; name at least one project")
        seen: dict[tuple[str, str | None, str | None], int] = {}
        for index, route in enumerate(value):
            first = seen.setdefault(route.narrowing, index)
            if first != index:
                raise ValueError(f"routes {first} ({value[first].described}) and {index} "
                                 f"({route.described}) route the same issues")
        return value

    def route_for(self, project: str | None, components: tuple[str, ...],
                  labels: tuple[str, ...]) -> Route | None:
        """The most narrowly matching route: component and label, then component, then
        label, then the project alone; None when no route takes the issue."""
        folded_components = frozenset(c.casefold() for c in components)
        folded_labels = frozenset(label.casefold() for label in labels)
        found = [r for r in self.routes
                 if project is not None and r.matches(project, folded_components, folded_labels)]
        return min(found, key=lambda r: (r.component is None, r.label is None), default=None)


def load_projects(path: Path) -> ProjectsConfig:
    """The file, validated, with each route's targets file (relative to it) loaded too."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"PROJECTS_FILE {path} does not exist") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"PROJECTS_FILE {path} is not valid YAML: {yaml_problem(exc)}"
                          ) from None
    try:
        config = ProjectsConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"PROJECTS_FILE {path} is invalid: {validation_problems(exc)}"
                          ) from None
    routes = tuple(_anchored(route, path.parent) for route in config.routes)
    for index, route in enumerate(routes):
        try:
            load_targets(route.targets_file)
        except ConfigError as exc:
            raise ConfigError(f"PROJECTS_FILE {path}: routes {index} ({route.described}): "
                              f"{exc}") from None
    return ProjectsConfig(routes=routes)


def _anchored(route: Route, root: Path) -> Route:
    """Relative paths in the file are read from the file's directory, not the process's."""
    update: dict[str, Path] = {"targets_file": root / route.targets_file}
    if route.local_repo_path is not None:
        update["local_repo_path"] = root / route.local_repo_path
    return route.model_copy(update=update)
