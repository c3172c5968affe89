"""The start-up check of PROJECTS_FILE: every route's repository answers one cheap call
(its main or base branch) with the configured token, so a route the token cannot reach is
found at start-up, not by the first issue of its project."""

from __future__ import annotations

from base.errors import ConfigError, SdbAgentError
from base.projects import load_projects
from base.recording import NullRecorder
from base.settings import Settings
from tasks.wiring import build_git_host


def route_report(settings: Settings) -> list[tuple[bool, str]]:
    """One line per route: whether its repository answered, and what it said."""
    if settings.projects_file is None:
        return []
    lines = []
    for route in load_projects(settings.projects_file).routes:
        routed = route.run_settings(settings)
        try:
            host = build_git_host(routed, NullRecorder())
            branch = (host.get_branch(routed.base_branch) if routed.base_branch
                      else host.default_branch())
            if branch is None:
                raise ConfigError(f"its base branch {routed.base_branch} does not exist")
            lines.append((True, f"{route.described}: reachable, base branch {branch.name}"))
        except SdbAgentError as exc:
            lines.append((False, f"{route.described}: NOT reachable: {exc}"))
    return lines


def check_routes(settings: Settings) -> list[str]:
    """The report's lines; ConfigError with every line when any route is unreachable."""
    report = route_report(settings)
    if not all(ok for ok, _ in report):
        raise ConfigError("PROJECTS_FILE: " + "; ".join(line for _, line in report))
    return [line for _, line in report]
