"""revise-pull-request: a review comment on a PR the agent opened becomes one follow-up commit
on the PR's branch and a reply saying what changed (or why nothing did).

claim (a revision run linked to the run that opened the PR; one per comment) -> may the author
ask? -> which target files (scope) -> the branch's tip and files -> edit each with the same
engine and attempt loop as the first run -> one commit, targets only -> reply -> finalize.
Every refusal is the run's recorded outcome, with a reply on the PR; nothing is committed.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.client.schemas.objects import State
from prefect.runtime import flow_run
from prefect.states import Completed, Failed

from base import redaction
from base.settings import Settings
from base.targets import TargetsConfig, load_targets
from db import issue_runs
from db.migrate import require_current_schema
from flows.recorded_issue_run import IssueRunRecord, recorded_issue_run
from flows.run_result import RunResult, add_costs
from integrations.bitbucket_events import ReviewComment, instructions_for_agent
from tasks.commit import commit_changes
from tasks.edit_file import edit_file
from tasks.outcomes import FileOutcome
from tasks.retry import raised_or_database_hiccup
from tasks.revise import file_spec, read_pr_files
from tasks.revise_access import reviewer_refusal
from tasks.revise_reply import reply_to_comment
from tasks.revise_scope import revision_scope
from tasks.runtime import current_runtime

BUSY_RETRIES, BUSY_DELAY_SECONDS = 10, 30


class RunBusy(Exception):
    """Another run of the issue is active; the claim is tried again later."""


def _run_name() -> str:
    comment = (flow_run.parameters or {}).get("comment") or {}
    if isinstance(comment, ReviewComment):
        return f"PR #{comment.pr_id} comment {comment.comment_id}"
    if isinstance(comment, dict):
        return f"PR #{comment.get('pr_id')} comment {comment.get('comment_id')}"
    return "revision"


def _mark_failed(flow: Any, flow_run: Any, state: Any) -> None:
    message = f"flow run {state.name}: {state.message or 'no message'}"
    issue_runs.fail_active_for_flow_run(current_runtime().engine, flow_run.id, message)


@task(retries=BUSY_RETRIES, retry_delay_seconds=BUSY_DELAY_SECONDS,
      retry_condition_fn=raised_or_database_hiccup(RunBusy))
def claim_revision(parent: issue_runs.OpenedPullRequest, comment: ReviewComment,
                   lease_seconds: int) -> issue_runs.Claim:
    """Waits (by retries) while another run of the issue works on the branch."""
    flow_run_id = uuid.UUID(str(flow_run.id)) if flow_run.id else None
    claim = issue_runs.claim_revision(
        current_runtime().engine, parent=parent, comment_id=comment.comment_id,
        summary=f"revision of #{parent.history_id}: comment {comment.comment_id} on PR "
                f"#{comment.pr_id} by {comment.author}"[:500],
        request_data=comment.model_dump(), flow_run_id=flow_run_id, pr_url=comment.pr_url,
        lease=timedelta(seconds=lease_seconds))
    if claim.outcome == "already_processing":
        raise RunBusy(f"history #{claim.history_id} of {parent.issue_key} is still running")
    return claim


@flow(name="revise-pull-request", flow_run_name=_run_name, on_failure=[_mark_failed],
      on_crashed=[_mark_failed])
def revise_pull_request(comment: ReviewComment) -> State:
    """Revise the agent's PR as the review comment asks; the state says what happened."""
    runtime = current_runtime()
    settings, engine = runtime.settings, runtime.engine
    redaction.install(settings.secret_values())
    require_current_schema(engine)
    parent = issue_runs.run_for_pull_request(engine, comment.pr_url)
    if parent is None:
        return Failed(message=f"{comment.pr_url} was not opened by sdb-agent")
    claim = claim_revision(parent, comment, settings.run_lease_seconds)
    if claim.outcome == "already_completed":
        return Completed(name="AlreadyRevised", message=(
            f"comment {comment.comment_id} was taken by history #{claim.history_id}"))
    with recorded_issue_run(engine, claim.history_id,
                            lease_seconds=settings.run_lease_seconds) as record:
        result = _revise(settings, record, parent, comment)
    if result["outcome"] == "completed":
        return Completed(message=f"commit {result.get('commit')} on {result.get('branch')}",
                         data=result)
    return Failed(message=str(result.get("error") or result.get("reason")), data=result)


def _revise(settings: Settings, record: IssueRunRecord, parent: issue_runs.OpenedPullRequest,
            comment: ReviewComment) -> RunResult:
    history_id = record.history_id
    request = instructions_for_agent(comment.text, mention=settings.agent_mention,
                                     prefix=settings.agent_command_prefix) or ""
    refusal = reviewer_refusal(history_id, comment)
    if refusal:
        return _refuse(record, comment, refusal)
    targets = load_targets(settings.targets_file)
    scope = revision_scope(comment, request, targets)
    if scope.refusal:
        return _refuse(record, comment, scope.refusal)
    branch = parent.branch_name or comment.source_branch
    found = read_pr_files(history_id, branch, scope.targets)
    if found is None:
        return _refuse(record, comment, f"the branch {branch} no longer exists")
    tip, originals = found
    outcomes = _edit(history_id, comment, request, targets, scope.targets, originals)
    return _commit_and_reply(settings, record, parent, comment, targets, branch, tip, outcomes)


def _edit(history_id: int, comment: ReviewComment, request: str, targets: TargetsConfig,
          chosen: tuple[Any, ...], originals: list[bytes | None]) -> list[FileOutcome]:
    futures = [edit_file.submit(history_id, target, data,
                                file_spec(comment, request, target, data,
                                          targets.default_encoding),
                                targets.default_encoding)
               for target, data in zip(chosen, originals, strict=True)]
    outcomes = []
    for future in futures:
        outcome = future.result(raise_on_failure=False)  # a failed file is Failed, not lost
        if isinstance(outcome, BaseException):
            raise outcome
        assert isinstance(outcome, FileOutcome)
        outcomes.append(outcome)
    return outcomes


def _commit_and_reply(settings: Settings, record: IssueRunRecord,
                      parent: issue_runs.OpenedPullRequest, comment: ReviewComment,
                      targets: TargetsConfig, branch: str, tip: Any,
                      outcomes: list[FileOutcome]) -> RunResult:
    history_id = record.history_id
    applied = [o for o in outcomes if o.status == "applied" and o.data is not None]
    result: RunResult = {"outcome": "completed", "history_id": history_id, "branch": branch,
                         "base_commit": tip.commit,
                         "files": [o.for_history() for o in outcomes]}
    add_costs(result, issue_runs.run_costs(record.engine, history_id))
    failed = [f"- `{o.path}`: {o.reason or o.error}" for o in outcomes if o.status == "failed"]
    if not applied:
        reason = "no file could be changed as asked; nothing was committed"
        reply_to_comment(history_id, comment, "\n".join([f"Nothing changed: {reason}.",
                                                         *failed]))
        result["outcome"] = "failed"
        record.failed(result, reason, branch=branch)
        return {**result, "error": reason}
    commit = commit_changes(
        history_id, tip, tip, {o.path: o.data for o in applied if o.data is not None}, targets,
        targets.spec_file(parent.issue_key),
        f"{parent.issue_key}: revise after review comment {comment.comment_id} on PR "
        f"#{comment.pr_id}\n\nRequested by {comment.author}. Generated by sdb-agent.",
        settings.commit_author)
    lines = [f"Revised in commit {str(commit.commit)[:12]}:",
             *[f"- `{o.path}`: {o.summary}" for o in applied]]
    if failed:
        lines += ["", "Not changed:", *failed]
    reply_to_comment(history_id, comment, "\n".join(lines))
    result["commit"], result["commit_reused"] = commit.commit, commit.reused
    record.completed(result, modified_files=len(applied), pr_url=comment.pr_url, branch=branch,
                     failed_files=[o.path for o in outcomes if o.status == "failed"])
    get_run_logger().info("PR #%s: revised %d file(s) in %s", comment.pr_id, len(applied),
                          commit.commit)
    return result


def _refuse(record: IssueRunRecord, comment: ReviewComment, reason: str) -> RunResult:
    """A refusal is the run's outcome, told on the PR; nothing was edited or committed."""
    reply_to_comment(record.history_id, comment, f"Nothing changed: {reason}.")
    result: RunResult = {"outcome": "refused", "history_id": record.history_id,
                         "reason": reason, "files": []}
    record.failed(result, reason, branch=None)
    get_run_logger().warning("PR #%s comment %s refused: %s", comment.pr_id,
                             comment.comment_id, reason)
    return result
