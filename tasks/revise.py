"""A revision's inputs: the PR branch's tip, the files to revise there, and the prompt text
for each (the comment, with the line it sits on). The edits themselves go through
`tasks/edit_file` and the commit through `tasks/commit`, as for the first run."""

from __future__ import annotations

from prefect import task

from base.targets import Target
from editing import decide_encoding
from integrations.bitbucket_events import ReviewComment
from integrations.git_host import BranchRef
from integrations.llm.revision_prompt import revision_spec
from tasks.context import run_context
from tasks.git_host_retry import (
    GIT_HOST_RETRIES,
    GIT_HOST_RETRY_DELAYS,
    rate_limited_or_database_hiccup,
)
from tasks.limits import spend_bitbucket_budget
from tasks.retry import JITTER


@task(retries=GIT_HOST_RETRIES, retry_delay_seconds=GIT_HOST_RETRY_DELAYS,
      retry_jitter_factor=JITTER, retry_condition_fn=rate_limited_or_database_hiccup)
def read_pr_files(history_id: int, branch: str,
                  targets: tuple[Target, ...]) -> tuple[BranchRef, list[bytes | None]] | None:
    """The branch's tip and each file's bytes there; None when the branch is gone (merged
    and deleted, or removed by hand)."""
    run = run_context(history_id)
    spend_bitbucket_budget(run.settings, 1 + 2 * len(targets))
    host = run.git_host()
    tip = host.get_branch(branch)
    if tip is None:
        return None
    return tip, [host.read_file(tip.commit, t.path) for t in targets]


def file_spec(comment: ReviewComment, request: str, target: Target, data: bytes | None,
              default_encoding: str | None) -> str:
    """The prompt's specification for one file: the request, and the commented line's text
    when the comment is on a line that the file still has."""
    line_text = None
    if comment.line is not None and data is not None and comment.path == target.path:
        lines = decide_encoding(data, configured=target.encoding,
                                default_encoding=default_encoding).text.splitlines()
        if comment.line <= len(lines):
            line_text = lines[comment.line - 1]
    return revision_spec(request=request, path=target.path,
                         line=comment.line if comment.path == target.path else None,
                         line_text=line_text)
