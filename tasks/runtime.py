"""The process's runtime: its settings and the engine they name, built in one place.

Code that already has its settings (the demo, a test, `serve`) installs a `Runtime` for what
it calls; a process that runs a flow without one (the serve runner's subprocess, a Prefect
worker, a CLI command) builds it once from the environment.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from cachetools import LRUCache
from sqlalchemy import Engine

from base.settings import Settings, load_settings
from db.session import connect_engine, resolve_database_url
from db.spool import Spool
from tasks.routing import settings_of_run

_REMEMBERED_ROUTES = 1000  # runs of this process whose route is kept, most recent first


class Runtime:
    """Settings and the engine they name (connected on first use), shared by every run of
    the process."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self._engine = engine
        self._owns_engine = engine is None
        self._lock = threading.Lock()
        self._routed: LRUCache[int, Settings] = LRUCache(maxsize=_REMEMBERED_ROUTES)

    @property
    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = connect_engine(resolve_database_url(self.settings))
            return self._engine

    def run_settings(self, history_id: int) -> Settings:
        """The settings of one run: its route's under PROJECTS_FILE (found once per process)."""
        if self.settings.projects_file is None:
            return self.settings
        with self._lock:
            found = self._routed.get(history_id)
        if found is None:
            found = settings_of_run(self.settings, self.engine, history_id)
            self.remember_route(history_id, found)
        return found

    def remember_route(self, history_id: int, settings: Settings) -> None:
        """The flow's chosen route, so the run's tasks in this process need not look it up."""
        with self._lock:
            self._routed[history_id] = settings

    @property
    def spool(self) -> Spool:
        """Where rows the database did not take wait (see db/spool.py)."""
        return Spool(self.settings.data_dir / "spool")

    def close(self) -> None:
        """Dispose of the engine this runtime connected (not one it was given)."""
        with self._lock:
            if self._engine is not None and self._owns_engine:
                self._engine.dispose()
                self._engine = None


_installed: Runtime | None = None
_install_lock = threading.Lock()


def install_runtime(runtime: Runtime | None) -> Runtime | None:
    """Make `runtime` the process's runtime; returns the one it replaces."""
    global _installed
    with _install_lock:
        previous, _installed = _installed, runtime
    return previous


@contextmanager
def using_runtime(runtime: Runtime) -> Iterator[Runtime]:
    """`runtime` for the code inside, then the previous one again."""
    previous = install_runtime(runtime)
    try:
        yield runtime
    finally:
        install_runtime(previous)


def current_runtime() -> Runtime:
    """The installed runtime, else one built from the environment (once per process)."""
    global _installed
    with _install_lock:
        if _installed is None:
            _installed = Runtime(load_settings())
        return _installed
