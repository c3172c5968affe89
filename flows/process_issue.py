"""process-issue: one Jira issue becomes one branch, one commit and one PR.

claim (DB dedupe) -> spec (LLM) || read targets (before it under a budget) || branch -> edit
files (mapped, concurrent) -> one commit -> PR (reused if open) -> finalize. Each step is a
task that records history. The run's settings and engine come from the process's runtime
(`tasks/runtime.py`) once, at the start; tasks get the history id and rebuild their clients
from it. The claimed body runs inside `recorded_issue_run`, which always records an outcome
and keeps a heartbeat that lets a rerun take over a run whose process was killed; hooks fail
the row if the flow crashes.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any, cast

from prefect import flow, get_run_logger, task, unmapped
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import State
from prefect.futures import PrefectFuture, as_completed
from prefect.runtime import flow_run
from prefect.states import Completed, Failed
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from sqlalchemy import Engine

from base import redaction
from base.errors import BudgetExceeded, IntegrationError
from base.prefect_ui import flow_run_url
from base.settings import Settings
from base.targets import TargetsConfig, load_targets
from db import issue_runs
from db.migrate import require_current_schema
from flows.approval import ApprovalDecision, await_spec_approval
from flows.recorded_issue_run import IssueRunRecord, recorded_issue_run
from flows.run_result import RunResult, add_costs
from flows.spec_hash import spec_hash
from integrations.git_host import BranchRef
from integrations.jira import Issue, clarified, parse_issue
from integrations.jira_identity import agent_ids
from tasks.artifacts import FileProgress, send_results
from tasks.branch import branch_name, drop_branch_if_empty, ensure_branch
from tasks.budget import budget_in_force
from tasks.commit import commit_changes
from tasks.edit_file import edit_file
from tasks.estimate import check_before_spending, estimate_cost
from tasks.intake import fetch_issue_by_key, read_targets
from tasks.jira_feedback import (
    feedback_enabled,
    jira_feedback,
    report_run_end,
    report_waiting_for_approval,
)
from tasks.limits import ensure_limits
from tasks.outcomes import FileOutcome
from tasks.pull_request import format_cost, open_pull_request, pr_description, pr_title
from tasks.reaper import ended_state
from tasks.retry import BACKOFF, JITTER, database_hiccup
from tasks.routing import route_issue
from tasks.runtime import current_runtime
from tasks.spec import convert_spec


def _run_name() -> str:
    parameters = flow_run.parameters or {}
    payload = parameters.get("issue") or {}
    inner = payload.get("issue", payload) if isinstance(payload, dict) else {}
    key = inner.get("key") if isinstance(inner, dict) else None
    return str(key or parameters.get("issue_key") or "issue")


def _mark_failed(flow: Any, flow_run: Any, state: Any) -> None:
    message = f"flow run {state.name}: {state.message or 'no message'}"
    issue_runs.fail_active_for_flow_run(current_runtime().engine, flow_run.id, message)


@task(retries=3, retry_delay_seconds=BACKOFF, retry_jitter_factor=JITTER,
      retry_condition_fn=database_hiccup)
def claim_run(issue: Issue, digest: str, force: bool, lease_seconds: int,
              repository: str | None) -> issue_runs.Claim:
    flow_run_id = uuid.UUID(str(flow_run.id)) if flow_run.id else None
    return issue_runs.claim(current_runtime().engine, issue_key=issue.key, summary=issue.summary,
                            issue_data=issue.raw, spec_hash=digest, flow_run_id=flow_run_id,
                            force=force, lease=timedelta(seconds=lease_seconds),
                            flow_run_ended=ended_state, repository=repository)


# Prefect's flow() is typed for TaskRunner[PrefectFuture], its thread pool runner for a subclass
_EDIT_RUNNER = cast(TaskRunner[PrefectFuture[Any]], ThreadPoolTaskRunner(max_workers=16))


@flow(name="process-issue", flow_run_name=_run_name, on_failure=[_mark_failed],
      on_crashed=[_mark_failed], task_runner=_EDIT_RUNNER)
def process_issue(issue: dict[str, Any] | None = None, issue_key: str | None = None,
                  force: bool = False) -> State:
    """Turn a Jira issue (webhook or REST JSON, or just its key) into a pull request.

    The run ends in the state that says what happened (its data is the result): Failed with
    the reason, Completed named Partial when some files could not be changed, or named
    AlreadyCompleted / AlreadyProcessing when another run of the issue stands."""
    return final_state(_run(issue, issue_key, force))


def _run(issue: dict[str, Any] | None, issue_key: str | None, force: bool) -> RunResult:
    runtime = current_runtime()
    settings, engine = runtime.settings, runtime.engine
    redaction.install(settings.secret_values())
    require_current_schema(engine)
    if issue is None and issue_key is None:
        raise ValueError("give the issue JSON or its key")
    parsed = parse_issue(issue) if issue is not None else fetch_issue_by_key(str(issue_key))
    if parsed.comments:  # whose they are matters only when there are some
        parsed = clarified(parsed, _agent_ids(settings), settings.agent_command_prefix,
                           issue_runs.jira_comment_ids(engine, parsed.key))
    if parsed.project:
        _tag_run_with_project(parsed.project)
    if not parsed.summary and not parsed.description:
        reason = f"{parsed.key} has no summary and no description: nothing to implement"
        history_id = issue_runs.record_refused(
            engine, issue_key=parsed.key, summary=parsed.summary, issue_data=parsed.raw,
            flow_run_id=_flow_run_uuid(), reason=reason)
        get_run_logger().error(reason)
        return {"outcome": "refused", "history_id": history_id, "reason": reason}
    routing = route_issue(settings, parsed)
    if routing.refusal is not None:
        return _refuse_unrouted(engine, parsed, routing.refusal)
    settings = routing.settings
    targets = load_targets(settings.targets_file)
    ensure_limits(settings)
    claim = claim_run(parsed, spec_hash(parsed, targets, settings.llm_model), force,
                      settings.run_lease_seconds, routing.repository)
    runtime.remember_route(claim.history_id, settings)
    if claim.outcome != "claimed":
        get_run_logger().info("%s: %s (history #%s)", parsed.key, claim.outcome, claim.history_id)
        return {"outcome": claim.outcome, "history_id": claim.history_id, "pr_url": claim.pr_url}
    with (jira_feedback(claim.history_id, parsed.key) as feedback,
          recorded_issue_run(engine, claim.history_id,
                             lease_seconds=settings.run_lease_seconds) as record):
        return feedback.ended(_process(settings, engine, record, parsed, targets))


def _refuse_unrouted(engine: Engine, issue: Issue, reason: str) -> RunResult:
    """Recorded, and said on the issue when feedback is on: no repository is guessed."""
    history_id = issue_runs.record_refused(
        engine, issue_key=issue.key, summary=issue.summary, issue_data=issue.raw,
        flow_run_id=_flow_run_uuid(), reason=reason)
    if feedback_enabled(history_id):
        report_run_end(history_id, issue.key, {
            "outcome": "refused", "error": reason,
            "advice": "ask the agent's operator to route this project in PROJECTS_FILE"})
    get_run_logger().error(reason)
    return {"outcome": "refused", "history_id": history_id, "reason": reason}


def _agent_ids(settings: Settings) -> frozenset[str]:
    """The agent's Jira account; when Jira cannot say, the run goes on and tells the agent's
    comments apart by the ids its runs recorded (Jira trouble never fails a run)."""
    try:
        return agent_ids(settings)
    except IntegrationError as exc:
        get_run_logger().warning("could not ask Jira who the agent is (%s); its own comments "
                                 "are known by the ids its runs recorded", exc)
        return frozenset()


def final_state(result: RunResult) -> State:
    """The Prefect state of a run whose result is `result` (history says the same)."""
    outcome = result.get("outcome")
    if outcome in ("failed", "refused"):
        reason = result.get("error") or result.get("reason") or outcome
        return Failed(message=str(reason), data=result)
    if outcome == "rejected":
        return Failed(name="Rejected", data=result,
                      message=f"{result.get('error')}; nothing was edited")
    if outcome == "already_completed":
        return Completed(name="AlreadyCompleted", data=result, message=(
            f"history #{result['history_id']} already made {result.get('pr_url')}"))
    if outcome == "already_processing":
        return Completed(name="AlreadyProcessing", data=result,
                         message=f"history #{result['history_id']} is still running")
    pr_url = result["pr"]["url"] if "pr" in result else None
    failed = [f["path"] for f in result.get("files", []) if f.get("status") == "failed"]
    if failed:
        # the failed files first: the UI cuts a long message after some 80 characters
        changed = len(result.get("files", [])) - len(failed)
        return Completed(name="Partial", data=result, message=(
            f"not changed: {', '.join(failed)}; PR with {changed} file(s): {pr_url}"))
    return Completed(message=str(pr_url), data=result)


def _tag_run_with_project(project: str) -> None:
    """Tag the flow run itself (not its task runs: a tagged task run asks the API for tag
    concurrency slots at every start, which costs a round trip per task)."""
    run_id = _flow_run_uuid()
    current = list(flow_run.tags)  # as the run was created (a webhook's run has it already)
    if run_id is None or project in current:
        return
    with get_client(sync_client=True) as client:
        client.update_flow_run(run_id, tags=[*current, project])


def _approval_link() -> str:
    """Where a person approves the spec: the run's page in the Prefect UI."""
    run_id = _flow_run_uuid()
    return (flow_run_url(run_id) if run_id else None) or "the Prefect UI (this flow run)"


def _flow_run_uuid() -> uuid.UUID | None:
    return uuid.UUID(str(flow_run.id)) if flow_run.id else None


def _process(settings: Settings, engine: Engine, record: IssueRunRecord, issue: Issue,
             targets: TargetsConfig) -> RunResult:
    """The run, stopped where a budget would be exceeded (no call past a cap is made)."""
    started = time.monotonic()
    try:
        return _edit_issue(settings, engine, record, issue, targets)
    except BudgetExceeded as exc:
        return _finish_failed(engine, record, issue, [], {
            "outcome": "failed", "history_id": record.history_id, "branch": None,
            "files": []}, None, str(exc), started)


def _edit_issue(settings: Settings, engine: Engine, record: IssueRunRecord, issue: Issue,
                targets: TargetsConfig) -> RunResult:
    logger = get_run_logger()
    history_id = record.history_id
    guarded = budget_in_force(settings, engine)
    if guarded:  # the budget check counts the files' prompts before the first call
        base, originals = read_targets(history_id, targets.targets, settings.max_file_concurrency)
        check_before_spending(settings, engine, history_id, issue, list(targets.targets),
                              originals, targets.default_encoding)
        spec_future = convert_spec.submit(history_id, issue)
    else:  # the spec does not need the files: they are read while it is written
        spec_future = convert_spec.submit(history_id, issue)
        base, originals = _read_beside(spec_future, history_id, targets, settings)
    if settings.approval_mode == "spec":  # before the branch and any edit are paid for
        spec_ready = spec_future.result()
        report_waiting_for_approval(history_id, issue.key, _approval_link())
        decision = await_spec_approval(settings, issue.key, spec_ready)
        if not decision.approved:
            return _finish_rejected(engine, record, issue, spec_future.result(), decision)
    name = branch_name(settings.branch_prefix, issue.key, issue.summary)
    branch_future = ensure_branch.submit(history_id, name, base)
    # Prefect passes the spec future's result (and waits for it); its types say str
    estimated_spec = estimate_cost.submit(history_id, cast(str, spec_future),
                                          list(targets.targets), originals,
                                          targets.default_encoding, guarded)
    # under a budget the edits wait for the estimate (a run that no longer fits makes no edit
    # call); without one it is only recorded, beside the edits
    edits = edit_file.map(history_id, list(targets.targets), originals,
                          unmapped(estimated_spec if guarded else spec_future),
                          unmapped(targets.default_encoding))
    progress = FileProgress(issue.key, len(targets.targets))  # while the spec is being written
    started = time.monotonic()
    logger.info("%s: writing the spec (%s)", issue.key, settings.llm_model)
    try:
        spec = spec_future.result()  # the edits wait for it: its failure is the run's cause
        if guarded:
            estimated_spec.result()  # a run that no longer fits stops before its first edit call
        logger.info("%s: spec written after %.1f s; editing %d file(s)", issue.key,
                    time.monotonic() - started, len(targets.targets))
        by_path: dict[str, FileOutcome] = {}
        for future in as_completed(list(edits)):
            outcome = future.result(raise_on_failure=False)  # a failed file is Failed, not lost
            if isinstance(outcome, BaseException):
                raise outcome
            assert isinstance(outcome, FileOutcome)  # a Failed state carries its outcome
            by_path[outcome.path] = outcome
            progress.advance()
            logger.info("%s: edited %d/%d after %.1f s: %s %s", issue.key, len(by_path),
                        len(targets.targets), time.monotonic() - started, outcome.path,
                        outcome.status)
        branch = branch_future.result()
        estimated_spec.result()
    except Exception:
        branch_future.wait()  # a branch still being created would outlive its deletion
        _drop_empty_branch(history_id, name, base.commit)
        raise
    outcomes = [by_path[t.path] for t in targets.targets]
    applied = [o for o in outcomes if o.status == "applied"]
    spec_file = targets.spec_file(issue.key)
    result: RunResult = {"outcome": "completed", "history_id": history_id,
                         "spec_markdown": spec, "spec_file": spec_file,
                         "branch": branch.name, "base_commit": base.commit,
                         "files": [o.for_history() for o in outcomes]}
    if not applied:
        left = None if _drop_empty_branch(history_id, name, base.commit) else branch.name
        result["branch"] = left
        return _finish_failed(engine, record, issue, outcomes, result, left,
                              "no target file could be edited; nothing was committed", started,
                              progress)
    files = {o.path: o.data for o in applied if o.data is not None}
    files[spec_file] = f"# {issue.key}: {issue.summary}\n\n{spec}\n".encode()
    commit = commit_changes(history_id, branch, base, files, targets, spec_file,
                            f"{issue.key}: {issue.summary}\n\nGenerated by sdb-agent.",
                            settings.commit_author)
    costs = issue_runs.run_costs(engine, history_id)
    cost_text = format_cost(costs.cost, costs.unpriced_calls)
    description = pr_description(issue=issue, spec=spec, outcomes=outcomes, spec_file=spec_file,
                                 cost_text=cost_text, history_id=history_id)
    pr = open_pull_request(history_id, branch.name, base.name, pr_title(issue), description)
    result["commit"], result["commit_reused"] = commit.commit, commit.reused
    result["pr"] = {"id": pr.id, "url": pr.url, "title": pr.title}
    add_costs(result, costs)
    sent = send_results(issue_key=issue.key, outcomes=outcomes, pr_url=pr.url,
                        summary_markdown=_summary(issue, spec, outcomes, costs,
                                                  time.monotonic() - started, pr.url),
                        progress=progress)
    record.completed(result, modified_files=len(applied), pr_url=pr.url, branch=branch.name,
                     failed_files=[o.path for o in outcomes if o.status == "failed"])
    sent.wait()
    logger.info("%s: PR %s with %d of %d files", issue.key, pr.url, len(applied), len(outcomes))
    return {**result, "flow_run_id": str(_flow_run_uuid())}


def _read_beside(spec_future: PrefectFuture[str], history_id: int, targets: TargetsConfig,
                 settings: Settings) -> tuple[BranchRef, list[bytes | None]]:
    """The targets, read while the spec is written. When they cannot be read the run fails
    once the spec call has ended, so the call it paid for is in the run's cost."""
    try:
        return read_targets(history_id, targets.targets, settings.max_file_concurrency)
    except BaseException:
        spec_future.wait()
        raise


def _drop_empty_branch(history_id: int, name: str, base_commit: str) -> bool:
    """Best effort: a branch left behind is untidy, not wrong, so this never fails the run.
    True when the branch is gone."""
    try:
        dropped = bool(drop_branch_if_empty(history_id, name, base_commit))
    except Exception as exc:  # noqa: BLE001 - the run's own outcome matters more
        get_run_logger().warning("could not delete the empty branch %s: %s", name, exc)
        return False
    if dropped:
        get_run_logger().info("deleted the empty branch %s", name)
    return dropped


def _finish_failed(engine: Engine, record: IssueRunRecord, issue: Issue,
                   outcomes: list[FileOutcome], result: RunResult, branch: str | None,
                   reason: str, started: float,
                   progress: FileProgress | None = None) -> RunResult:
    costs = issue_runs.run_costs(engine, record.history_id)
    result["outcome"] = "failed"
    add_costs(result, costs)
    sent = send_results(issue_key=issue.key, outcomes=outcomes, pr_url=None,
                        summary_markdown=_summary(issue, result.get("spec_markdown", ""),
                                                  outcomes, costs, time.monotonic() - started,
                                                  None, reason),
                        progress=progress)
    record.failed(result, reason, branch=branch)
    sent.wait()
    get_run_logger().error("%s: %s", issue.key, reason)
    return {**result, "error": reason}


def _finish_rejected(engine: Engine, record: IssueRunRecord, issue: Issue, spec: str,
                     decision: ApprovalDecision) -> RunResult:
    """Rejected or not approved in time: no branch, no commit; the spec's cost is kept."""
    result: RunResult = {"outcome": "rejected", "history_id": record.history_id,
                         "spec_markdown": spec, "branch": None, "files": []}
    add_costs(result, issue_runs.run_costs(engine, record.history_id))
    record.failed(result, decision.reason, branch=None)
    get_run_logger().warning("%s: %s; nothing was edited", issue.key, decision.reason)
    return {**result, "error": decision.reason}


def _summary(issue: Issue, spec: str, outcomes: list[FileOutcome], costs: issue_runs.RunCosts,
             elapsed: float, pr_url: str | None, error: str | None = None) -> str:
    """The run at a glance for a team lead: outcome, time, spend, what failed and why."""
    excerpt = spec[:800] + (" …" if len(spec) > 800 else "")
    changed = sum(o.status == "applied" for o in outcomes)
    lines = [f"# {issue.key}: {issue.summary}", "",
             f"**Pull request:** {pr_url}" if pr_url else f"**Failed:** {error}", "",
             "| duration | files changed | LLM calls | cache hits | tokens | LLM cost |",
             "|---|---|---|---|---|---|",
             f"| {elapsed:.1f} s | {changed} of {len(outcomes)} | {costs.calls} | "
             f"{costs.cache_hits} | {costs.tokens} | "
             f"{format_cost(costs.cost, costs.unpriced_calls)} |"]
    if costs.estimate_method is not None:
        lines += ["", f"**Estimate before the edits:** {format_cost(costs.estimate)}, worst case "
                      f"{format_cost(costs.estimate_worst)} (counted with "
                      f"{costs.estimate_method}); actual "
                      f"{format_cost(costs.cost, costs.unpriced_calls)}"]
    lines += ["", "## Spec (excerpt)", excerpt]
    errors = [o for o in outcomes if o.error]
    if errors:
        lines += ["", "## Not changed", *[
            f"- `{o.path}`: {o.reason or o.error}" for o in errors]]
    return "\n".join(lines)
