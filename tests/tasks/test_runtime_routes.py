"""A process remembers the routes of its most recently used runs, so that a run's tasks do not
look theirs up again, and its memory stays bounded however many runs it serves."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from base.settings import Settings
from tasks.runtime import Runtime
from tests.test_projects import projects_file, route

KEPT = 1000  # tasks/runtime.py: _REMEMBERED_ROUTES


def routed_runtime(tmp_path: Path, engine: Engine) -> tuple[Runtime, Settings]:
    """A runtime under PROJECTS_FILE and one route's settings to remember. No history row
    exists, so a run whose route was forgotten gets the global settings back."""
    settings = Settings(_env_file=None,  # type: ignore[call-arg]
                        projects_file=projects_file(tmp_path, route()))
    return Runtime(settings, engine=engine), settings.model_copy(update={"base_branch": "dev"})


def test_a_remembered_route_is_used_without_a_lookup(tmp_path: Path, engine: Engine) -> None:
    runtime, routed = routed_runtime(tmp_path, engine)
    runtime.remember_route(1, routed)
    assert runtime.run_settings(1) is routed
    assert runtime.run_settings(2) is runtime.settings  # looked up: no row, no route


def test_the_least_recently_used_route_is_forgotten_first(tmp_path: Path,
                                                          engine: Engine) -> None:
    runtime, routed = routed_runtime(tmp_path, engine)
    runtime.remember_route(1, routed)
    runtime.remember_route(2, routed)
    for history_id in range(3, KEPT + 1):
        runtime.remember_route(history_id, routed)
    assert runtime.run_settings(1) is routed  # in use again: kept
    runtime.remember_route(KEPT + 1, routed)
    assert runtime.run_settings(1) is routed
    assert runtime.run_settings(2) is runtime.settings  # the oldest unused one went
