"""`APPROVAL_MODE=spec`: a person approves the spec in the Prefect UI before any edit is paid
for.

The run publishes the spec as an artifact and pauses with a form (Prefect's `pause_flow_run`
with a `RunInput`): approve, or reject with a reason. Resuming without the form's input is
refused by Prefect; no answer within `APPROVAL_TIMEOUT_HOURS` ends the wait as a timeout.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.client.orchestration import get_client
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.runtime import flow_run
from prefect.states import Running
from pydantic import Field

from base.prefect_ui import flow_run_url
from base.settings import Settings

# How soon a resume is noticed: one Prefect API read per paused run this often.
POLL_SECONDS = 2


class SpecApproval(RunInput):
    """The form on a paused run in the Prefect UI."""

    approve: bool = Field(description="Approve the spec: the agent edits the files and opens "
                                      "the pull request (LLM spend starts here).")
    reason: str = Field(default="", max_length=500,
                        description="Why not, when rejecting (kept in the history).")


@dataclass(frozen=True)
class ApprovalDecision:
    approved: bool
    reason: str


def approval_timeout_seconds(settings: Settings) -> int:
    return max(1, round(settings.approval_timeout_hours * 3600))


def await_spec_approval(settings: Settings, issue_key: str, spec: str) -> ApprovalDecision:
    """Pause until the spec is approved or rejected; a timeout is a rejection that says so."""
    create_markdown_artifact(
        key="spec-for-approval", description=f"{issue_key}: the spec waiting for approval",
        markdown=f"# {issue_key}: approve this spec?\n\nResume the run with *approve* to edit "
                 f"the files, or reject it with a reason.\n\n{spec}\n")
    timeout = approval_timeout_seconds(settings)
    link = flow_run_url(str(flow_run.id)) if flow_run.id else None
    get_run_logger().warning("%s: waiting up to %g hour(s) for the spec's approval: resume the "
                             "run in the Prefect UI%s", issue_key, settings.approval_timeout_hours,
                             f" ({link})" if link else "")
    try:
        answer = pause_flow_run(wait_for_input=SpecApproval, timeout=timeout,
                                poll_interval=POLL_SECONDS)
    except FlowPauseTimeout:
        _running_again()
        hours = settings.approval_timeout_hours
        return ApprovalDecision(False, f"no approval within {hours:g} hour(s) "
                                       "(APPROVAL_TIMEOUT_HOURS)")
    if answer.approve:
        return ApprovalDecision(True, answer.reason.strip())
    reason = answer.reason.strip() or "no reason given"
    return ApprovalDecision(False, f"the spec was rejected: {reason}")


def _running_again() -> None:
    """Leave the expired pause, so the run can record why it ends: Prefect's server turns any
    state proposed for an expired pause into its own "rejected and never resumed" failure."""
    run_id = flow_run.id
    if run_id is None:
        return
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(uuid.UUID(str(run_id)), Running(), force=True)
