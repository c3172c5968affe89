"""What a person sees of a run in the Prefect UI: PR link, file table, summary, progress."""

from __future__ import annotations

import contextvars
import re
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

from tasks.outcomes import FileOutcome


def artifact_key(prefix: str, issue_key: str) -> str:
    """Prefect keys allow lowercase letters, digits and dashes only."""
    return f"{prefix}-" + re.sub(r"[^a-z0-9-]", "-", issue_key.lower())


def _in_background(action: Callable[..., object], *args: object,
                   after: Future[Any] | None = None, **kwargs: object) -> Future[Any]:
    """Run an artifact call on the shared sender, in a copy of the caller's context (Prefect
    finds the flow run the artifact belongs to there), after `after` has finished."""
    context = contextvars.copy_context()

    def send() -> object:
        if after is not None:
            after.result()
        return context.run(action, *args, **kwargs)

    return _SENDER.submit(send)


# Artifact calls are API round trips: sent from here they overlap with the run's own work.
# The threads are the process's, like a connection pool, and idle between runs.
_SENDER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="artifacts")


class FileProgress:
    """A progress artifact that advances as target files finish.

    It is created and updated in the background, in order, at most every `min_interval`
    seconds; the final 100 % is always sent, and `finished` waits for it."""

    def __init__(self, issue_key: str, total: int, *, min_interval: float = 0.5) -> None:
        self.total, self.done, self.min_interval = total, 0, min_interval
        self.last_sent = time.monotonic()
        self._created = _in_background(
            create_progress_artifact, 0.0, key=artifact_key("files-progress", issue_key),
            description=f"{issue_key}: target files edited")
        self._last: Future[Any] = self._created

    def advance(self) -> None:
        self.done += 1
        now = time.monotonic()
        if self.done >= self.total or now - self.last_sent >= self.min_interval:
            self._last = _in_background(self._update, 100.0 * self.done / max(self.total, 1),
                                        after=self._last)
            self.last_sent = now

    def finished(self) -> None:
        """Wait until every update has reached Prefect (raises what failed)."""
        self._last.result()

    def _update(self, percent: float) -> None:
        update_progress_artifact(cast(UUID, self._created.result()), percent)


def clickable(pr_url: str) -> str:
    """A link a browser opens: the local git host's `local:///repo#branch` is the repository
    directory as a file:// URL."""
    if pr_url.startswith("local://"):
        return "file://" + pr_url.removeprefix("local://").split("#", 1)[0]
    return pr_url


def _usd(cost: Decimal | None) -> str:
    return "unpriced" if cost is None else f"${cost:.6f}"


def files_table(outcomes: list[FileOutcome]) -> list[dict[str, object]]:
    """One row per target file, then a totals row."""
    rows: list[dict[str, object]] = [
        {"path": o.path, "status": o.status, "summary": o.summary or o.reason,
         "edits": o.edit_count, "hunks": o.hunk_count,
         "encoding": o.final_encoding or o.original_encoding or "", "attempts": o.attempts,
         "tokens": o.tokens, "cost": _usd(o.cost), "diff": o.diff_excerpt}
        for o in outcomes]
    costs = [o.cost for o in outcomes]
    total = None if any(c is None for c in costs) else sum((c for c in costs if c), Decimal(0))
    rows.append({"path": "total", "status": f"{sum(o.status == 'applied' for o in outcomes)} "
                 f"of {len(outcomes)} changed", "summary": "",
                 "edits": sum(o.edit_count for o in outcomes),
                 "hunks": sum(o.hunk_count for o in outcomes), "encoding": "",
                 "attempts": sum(o.attempts for o in outcomes),
                 "tokens": sum(o.tokens for o in outcomes), "cost": _usd(total), "diff": ""})
    return rows


class ResultsSent:
    """Result artifacts on their way to Prefect; `wait` returns once they and the progress's
    last update are there (raising what failed), so a run never ends before the UI shows its
    outcome."""

    def __init__(self, sent: list[Future[Any]], progress: FileProgress | None) -> None:
        self._sent, self._progress = sent, progress

    def wait(self) -> None:
        if self._progress is not None:
            self._progress.finished()
        for future in self._sent:
            future.result()


def send_results(*, issue_key: str, outcomes: list[FileOutcome], pr_url: str | None,
                 summary_markdown: str, progress: FileProgress | None = None) -> ResultsSent:
    """Start sending the run's result artifacts, side by side, while the run records itself."""
    sent = [
        _in_background(create_table_artifact, files_table(outcomes),
                       key=artifact_key("files", issue_key), description=f"{issue_key}: files"),
        _in_background(create_markdown_artifact, summary_markdown,
                       key=artifact_key("summary", issue_key),
                       description=f"{issue_key}: run summary")]
    if pr_url:
        sent.append(_in_background(
            create_link_artifact, clickable(pr_url), link_text=f"Pull request for {issue_key}",
            key=artifact_key("pr", issue_key),
            description=f"{issue_key}: the pull request ({pr_url})"))
    return ResultsSent(sent, progress)
