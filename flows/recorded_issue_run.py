"""The body of a claimed issue run, wrapped so its history row always ends with an outcome.

While the body runs, a heartbeat proves the run alive; the body records its outcome with
`completed` or `failed`. A body that raises, or ends without an outcome, fails the run with
the reason (secrets masked), so no claimed row is left `processing` by a live process.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from base import redaction
from db import issue_runs
from db.models import RunStatus
from flows.heartbeat import Heartbeat
from flows.run_result import RunResult


class IssueRunRecord:
    """One claimed run's history row, written once at the end."""

    def __init__(self, engine: Engine, history_id: int) -> None:
        self.engine, self.history_id = engine, history_id
        self.recorded = False

    def completed(self, result: RunResult, *, modified_files: int, pr_url: str,
                  branch: str, failed_files: list[str]) -> RunResult:
        self._finish(RunStatus.COMPLETED, result, modified_files=modified_files, pr_url=pr_url,
                     branch=branch, error=f"failed files: {', '.join(failed_files)}"
                     if failed_files else None)
        return result

    def failed(self, result: RunResult, reason: str, *, branch: str | None) -> RunResult:
        self._finish(RunStatus.FAILED, result, modified_files=0, pr_url=None, branch=branch,
                     error=reason)
        return result

    def _finish(self, status: RunStatus, result: RunResult, *, modified_files: int,
                pr_url: str | None, branch: str | None, error: str | None) -> None:
        issue_runs.finish(self.engine, history_id=self.history_id,
                          status=status,
                          modified_files_count=modified_files, result_data=dict(result),
                          error_message=error, pr_url=pr_url, branch_name=branch)
        self.recorded = True


@contextmanager
def recorded_issue_run(engine: Engine, history_id: int, *,
                       lease_seconds: float) -> Iterator[IssueRunRecord]:
    record = IssueRunRecord(engine, history_id)
    with Heartbeat(engine, history_id, interval=lease_seconds / 3):
        try:
            yield record
        except Exception as exc:
            if not record.recorded:
                record.failed({"outcome": "failed", "history_id": history_id},
                              redaction.redact(f"{type(exc).__name__}: {exc}"), branch=None)
            raise
    if not record.recorded:
        record.failed({"outcome": "failed", "history_id": history_id},
                      "the run ended without recording an outcome", branch=None)
