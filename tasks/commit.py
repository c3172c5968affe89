"""One commit with every edited file plus the spec, or none if the branch already has them."""

from __future__ import annotations

from prefect import task

from base.errors import PathRefused
from base.targets import TargetsConfig
from integrations.git_host import BranchRef
from tasks.context import run_context, task_logger
from tasks.git_host_retry import (
    GIT_HOST_RETRIES,
    GIT_HOST_RETRY_DELAYS,
    rate_limited_or_database_hiccup,
)
from tasks.limits import spend_bitbucket_budget
from tasks.outcomes import CommitOutcome
from tasks.retry import JITTER


def in_scope(paths: list[str], targets: TargetsConfig, spec_file: str) -> None:
    """Refuse any path that is neither a configured target nor the spec file."""
    allowed = {t.path for t in targets.targets} | {spec_file}
    stray = sorted(set(paths) - allowed)
    if stray:
        raise PathRefused(f"refused to write {', '.join(stray)}: not a configured target")


@task(retries=GIT_HOST_RETRIES, retry_delay_seconds=GIT_HOST_RETRY_DELAYS,
      retry_jitter_factor=JITTER, retry_condition_fn=rate_limited_or_database_hiccup)
def commit_changes(history_id: int, branch: BranchRef, base: BranchRef, files: dict[str, bytes],
                   targets: TargetsConfig, spec_file: str, message: str,
                   author: str) -> CommitOutcome:
    """Files already identical on the branch are left out; reading them is needed only when
    the branch has moved past the base (a rerun), since every edit changes its file. The
    budget counts the tip, the commit, and up to two requests a file for its mode at the
    parent (a new file's 404 is told from a missing commit); a rerun's reads take two more a
    file (what the path is, then its bytes)."""
    in_scope(list(files), targets, spec_file)
    run = run_context(history_id)
    host = run.git_host()
    spend_bitbucket_budget(run.settings, 2 + 2 * len(files))
    tip = host.get_branch(branch.name) or branch
    if tip.commit != base.commit:
        spend_bitbucket_budget(run.settings, 2 * len(files))
    changed = dict(files) if tip.commit == base.commit else {
        path: data for path, data in files.items() if host.read_file(tip.commit, path) != data}
    if not changed:
        task_logger().info("branch %s already holds every file; no new commit", branch.name)
        return CommitOutcome(commit=tip.commit, files=tuple(sorted(files)), reused=True)
    commit = host.commit_files(branch=branch.name, parent=tip.commit, files=changed,
                               message=message, author=author)
    return CommitOutcome(commit=commit, files=tuple(sorted(changed)), reused=False)
