"""The run's comment on its Jira issue, and the issue's transitions, as a courtesy to the
people watching the issue: the pull request is the product, so Jira failing never fails the
run. Every Jira call is recorded in `jira_api_history`; a failure is logged as a warning.

One comment per issue content: it is added when a run starts, edited when it waits for an
approval and when it ends, and a rerun of the same content (same spec hash: a retry or a
take-over) edits it again (`issue_processing_history.jira_comment_id`). Feedback needs
JIRA_FEEDBACK=comment (the default) and the Jira URL and credentials.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from typing import Any, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from base.errors import ConfigError, Conflict, IntegrationError, NotFound, TransientError
from base.prefect_ui import flow_run_url
from base.settings import Settings
from db import issue_runs
from db.recorder import JiraHistoryRecorder
from integrations.jira_comments import JiraComments
from integrations.jira_http import JiraHttp
from integrations.jira_identity import configured_site
from integrations.jira_report import FileLine, RunReport, comment_body
from integrations.llm.client import LlmOutputError
from tasks.context import RunContext, current_task_run_id, run_context, task_logger
from tasks.pull_request import format_cost

R = TypeVar("R", bound=Mapping[str, Any])

_CAUSES: tuple[tuple[type[BaseException], str, str], ...] = (
    (ConfigError, "a setting of the agent is missing or wrong",
     "ask the agent's operator to fix the setting named in the run"),
    (Conflict, "the branch changed while the agent was writing to it",
     "retry the run"),
    (LlmOutputError, "the model's answers were unusable",
     "make the issue clearer (a comment here is read by the next run) and retry the run"),
    (TransientError, "an outside service (Bitbucket or the LLM) was unavailable, also after "
                     "retries", "retry the run later"),
    (IntegrationError, "an outside service (Bitbucket or the LLM) refused a request",
     "ask the agent's operator to check the run"),
)


class RunFeedback:
    """The feedback of one claimed run; `ended` reports the result and returns it. With
    feedback off it reports nothing, and no task is started for it (each costs round trips
    on the run's critical path)."""

    def __init__(self, history_id: int, issue_key: str, *, enabled: bool) -> None:
        self.history_id, self.issue_key, self.enabled = history_id, issue_key, enabled

    def ended(self, result: R) -> R:
        if self.enabled:
            report_run_end(self.history_id, self.issue_key, dict(result))
        return result


@contextmanager
def jira_feedback(history_id: int, issue_key: str) -> Iterator[RunFeedback]:
    """Around a claimed run: "working on it" now; a run that raises is reported failed."""
    enabled = feedback_enabled(history_id)
    if enabled:
        announce_run(history_id, issue_key)
    try:
        yield RunFeedback(history_id, issue_key, enabled=enabled)
    except Exception as exc:
        if enabled:
            report_run_end(history_id, issue_key, {"outcome": "failed"}, exc)
        raise


@task(cache_policy=NO_CACHE)
def announce_run(history_id: int, issue_key: str) -> None:
    _write(history_id, issue_key, RunReport("working", _run_url()))


@task(cache_policy=NO_CACHE)
def report_waiting_for_approval(history_id: int, issue_key: str, approval_url: str) -> None:
    """For the approval step: the run's comment says it waits, with the approval link."""
    _write(history_id, issue_key, RunReport("waiting", _run_url(), approval_url=approval_url))


@task(cache_policy=NO_CACHE)
def report_run_end(history_id: int, issue_key: str, result: dict[str, Any],
                   error: BaseException | None = None) -> None:
    """The final comment (PR, files, cost; or why it failed and what to do), after the
    transition the outcome asks for, so a transition that is not available is noted in it."""
    run = _feedback_run(history_id)
    if run is None:
        return
    with _courtesy(issue_key, "report the run's end"):
        if "cost_usd" not in result:  # raised: what the model was paid so far
            costs = issue_runs.run_costs(run.engine, history_id)
            result = {**result, "cost_usd": str(costs.cost),
                      "unpriced_calls": costs.unpriced_calls}
        report = final_report(result, error, _run_url())
        wanted = (run.settings.jira_transition_on_failure if report.state == "failed"
                  else run.settings.jira_transition_on_pr)
        note = _transition(run, issue_key, wanted) if wanted else None
        if note:
            report = replace(report, notes=(*report.notes, note))
        _write(history_id, issue_key, report, run)


def final_report(result: dict[str, Any], error: BaseException | None,
                 run_url: str | None) -> RunReport:
    files = tuple(FileLine(f["path"], f.get("status") == "applied",
                           f.get("summary") if f.get("status") == "applied"
                           else f.get("reason") or f.get("error") or "")
                  for f in result.get("files", []))
    cost = (format_cost(Decimal(result["cost_usd"]), int(result.get("unpriced_calls", 0)))
            if "cost_usd" in result else None)
    if "pr" in result:
        partial = any(not f.changed for f in files)
        return RunReport("partial" if partial else "completed", run_url,
                         pr_url=result["pr"]["url"], files=files, cost=cost)
    reason, advice = _words(result, error)
    return RunReport("failed", run_url, files=files, cost=cost, reason=reason, advice=advice)


def _words(result: dict[str, Any], error: BaseException | None) -> tuple[str, str]:
    """What went wrong and what to do, for a run that made no pull request."""
    if error is not None:
        return next(((words, advice) for kind, words, advice in _CAUSES
                     if isinstance(error, kind)),
                    ("the agent stopped on an unexpected error",
                     "ask the agent's operator to check the run"))
    reason = str(result.get("error") or "the run ended without a pull request")
    if result.get("outcome") == "refused":
        return reason, str(result.get("advice") or "ask the agent's operator to check the run")
    if result.get("outcome") == "rejected":
        return reason, "change the issue if needed and retry the run to write a new spec"
    return reason, ("read why each file was not changed, make the issue clearer (a comment "
                    "here is read by the next run) and retry the run")


def feedback_enabled(history_id: int) -> bool:
    """Whether the run's feedback is on (no task is started for a run whose feedback is off)."""
    return _feedback_run(history_id) is not None


def _feedback_run(history_id: int) -> RunContext | None:
    run = run_context(history_id)
    return run if _enabled(run.settings) else None


def _enabled(settings: Settings) -> bool:
    return settings.jira_feedback == "comment" and configured_site(settings) is not None


def _client(run: RunContext) -> JiraComments:
    site = configured_site(run.settings)
    assert site is not None  # _enabled checked it
    recorder = JiraHistoryRecorder(run.engine, history_id=run.history_id,
                                   task_run_id=current_task_run_id(), spool=run.runtime.spool)
    return JiraComments(JiraHttp(site, recorder))


def _write(history_id: int, issue_key: str, report: RunReport,
           run: RunContext | None = None) -> None:
    """Edit the run's comment in place, or add it (also when a person deleted it)."""
    run = run or _feedback_run(history_id)
    if run is None:
        return
    with _courtesy(issue_key, "write the Jira comment"):
        client = _client(run)
        body = comment_body(report, client.http.site.api_version)
        comment_id = issue_runs.jira_comment_id(run.engine, history_id)
        if comment_id is not None:
            try:
                client.edit_comment(issue_key, comment_id, body)
            except NotFound:
                comment_id = None
        if comment_id is None:
            comment_id = client.add_comment(issue_key, body)
        issue_runs.set_jira_comment_id(run.engine, history_id, comment_id)


@contextmanager
def _courtesy(issue_key: str, what: str) -> Iterator[None]:
    """Jira (or the history of its calls) failing is a warning, never the run's end."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - the PR is the product, Jira a courtesy
        task_logger().warning("%s: could not %s: %s", issue_key, what, exc)


def _transition(run: RunContext, issue_key: str, name: str) -> str | None:
    """Move the issue by transition name; a warning (returned for the comment) when the
    issue's status has no such transition or Jira refuses."""
    try:
        client = _client(run)
        found = next((t for t in client.transitions(issue_key)
                      if t.name.casefold() == name.casefold()), None)
        if found is None:
            warning = (f"the transition \"{name}\" is not available from the issue's current "
                       "status, so the issue was not moved")
        else:
            client.transition(issue_key, found.id)
            return None
    except Exception as exc:  # noqa: BLE001 - a transition is a courtesy too
        warning = f"the issue could not be moved with \"{name}\": {exc}"
    task_logger().warning("%s: %s", issue_key, warning)
    return warning


def _run_url() -> str | None:
    return flow_run_url(flow_run.id) if flow_run.id else None
