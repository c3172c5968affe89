"""What a person sees of a run in the Prefect UI: PR link, file table, summary, progress."""

from __future__ import annotations

import re
import time
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
        self.artifact_id: UUID = create_progress_artifact(
            0.0, key=artifact_key("files-progress", issue_key),
            description=f"{issue_key}: target files edited")

    def advance(self) -> None:
        self.done += 1
        now = time.monotonic()
        if self.done >= self.total or now - self.last_sent >= self.min_interval:
            update_progress_artifact(self.artifact_id, 100.0 * self.done / max(self.total, 1))
            self.last_sent = now


def publish_results(*, issue_key: str, outcomes: list[FileOutcome], pr_url: str | None,
                    summary_markdown: str) -> None:
    if pr_url:
        create_link_artifact(pr_url, link_text=f"Pull request for {issue_key}",
                             key=artifact_key("pr", issue_key),
                             description=f"{issue_key}: the pull request")
    create_table_artifact(
        [{"path": o.path, "encoding": o.final_encoding or o.original_encoding or "",
          "edits": o.edit_count, "status": o.status, "tokens": o.tokens,
          "cost": "unpriced" if o.cost is None else f"{o.cost:.6f}",
          "error": (o.error or "")[:200]} for o in outcomes],
        key=artifact_key("files", issue_key), description=f"{issue_key}: files")
    create_markdown_artifact(summary_markdown, key=artifact_key("summary", issue_key),
                             description=f"{issue_key}: run summary")
