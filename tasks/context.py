"""One issue run's clients, rebuilt in a task from the plain values Prefect passes (the
history id) and the process's `Runtime`, so no task reads settings or the engine from a global.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from prefect import get_run_logger
from prefect.exceptions import MissingContextError
from prefect.runtime import task_run
from sqlalchemy import Engine

from base.settings import Settings
from db.recorder import HistoryRecorder
from integrations.git_host import GitHost
from integrations.llm.client import LlmClient
from tasks.budget import LedgerGuard, budget_in_force
from tasks.runtime import Runtime, current_runtime
from tasks.wiring import build_git_host, build_llm_client


def current_task_run_id() -> uuid.UUID | None:
    value = task_run.id
    return uuid.UUID(str(value)) if value else None


@dataclass(frozen=True)
class RunContext:
    """One issue run's view of the runtime: its clients record into its history rows."""

    runtime: Runtime
    history_id: int

    @property
    def settings(self) -> Settings:
        """The run's settings: its route's under PROJECTS_FILE (tasks/routing.py)."""
        return self.runtime.run_settings(self.history_id)

    @property
    def engine(self) -> Engine:
        return self.runtime.engine

    def recorder(self) -> HistoryRecorder:
        """This task's recorder; rows spooled during an outage are written first, once the
        database answers again."""
        spool = self.runtime.spool
        if spool.path.exists():
            spool.replay(self.engine)
        return HistoryRecorder(self.engine, history_id=self.history_id,
                               task_run_id=current_task_run_id(), spool=spool)

    def git_host(self) -> GitHost:
        return build_git_host(self.settings, self.recorder())

    def llm(self, recorder: HistoryRecorder) -> LlmClient:
        """The run's LLM client: every call it makes is kept within the budgets."""
        return build_llm_client(self.settings, recorder, self.engine,
                                guard=LedgerGuard(self.settings, self.engine, self.history_id),
                                cap_completion=budget_in_force(self.settings, self.engine))


def run_context(history_id: int) -> RunContext:
    """The context of the run whose history row is `history_id`, in this process."""
    return RunContext(current_runtime(), history_id)


def task_logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The Prefect run logger inside a run; a plain logger when a task's function is called
    directly (the benchmark's plain-Python baseline)."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("sdb_agent.tasks")
