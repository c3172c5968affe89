"""What a person sees of a run in the Prefect UI: PR link, file table, summary, progress."""

from __future__ import annotations

import re
import time
from decimal import Decimal
from typing import cast
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


class FileProgress:
    """A progress artifact that advances as target files finish.

    Updates are API round trips on the flow's critical path, so they are sent at most every
    `min_interval` seconds; the final 100 % is always sent."""

    def __init__(self, issue_key: str, total: int, *, min_interval: float = 0.5) -> None:
        self.total, self.done, self.min_interval = total, 0, min_interval
        self.last_sent = time.monotonic()
        self.artifact_id = cast(UUID, create_progress_artifact(
            0.0, key=artifact_key("files-progress", issue_key),
            description=f"{issue_key}: target files edited"))  # sync here, never a coroutine

    def advance(self) -> None:
        self.done += 1
        now = time.monotonic()
        if self.done >= self.total or now - self.last_sent >= self.min_interval:
            update_progress_artifact(self.artifact_id, 100.0 * self.done / max(self.total, 1))
            self.last_sent = now


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


def publish_results(*, issue_key: str, outcomes: list[FileOutcome], pr_url: str | None,
                    summary_markdown: str) -> None:
    if pr_url:
        create_link_artifact(clickable(pr_url), link_text=f"Pull request for {issue_key}",
                             key=artifact_key("pr", issue_key),
                             description=f"{issue_key}: the pull request ({pr_url})")
    create_table_artifact(files_table(outcomes), key=artifact_key("files", issue_key),
                          description=f"{issue_key}: files")
    create_markdown_artifact(summary_markdown, key=artifact_key("summary", issue_key),
                             description=f"{issue_key}: run summary")
