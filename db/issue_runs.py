"""Every transition of an issue run in `issue_processing_history`: claim, heartbeat, finish,
refusal, take-over and reaping. Nothing else writes a run's status.

The claim is enforced by the database (partial unique index on active runs per issue key):
of any number of concurrent claims exactly one inserts. One liveness rule decides when an
active run is dead (`_last_sign_of_life` older than a limit, or its Prefect flow run over),
and one writer fails it (`_fail_active`), whether a rerun, the flow's hooks or the reaper asks.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Engine, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from base import clock
from db import llm_budget
from db.models import ACTIVE_STATUSES, IssueProcessingHistory, RunKind, RunStatus
from db.models import LlmCallHistory as Call

Run = IssueProcessingHistory
FlowRunEnded = Callable[[uuid.UUID], str | None]
"""The end state of a Prefect flow run that is over (`tasks/reaper.ended_state`), else None."""

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    outcome: Literal["claimed", "already_processing", "already_completed"]
    history_id: int
    pr_url: str | None = None


def _now() -> datetime:
    return clock.now()


def _last_sign_of_life() -> ColumnElement[datetime]:
    """The one liveness rule: the last heartbeat, else the start, else the insert."""
    return func.coalesce(Run.heartbeat_at, Run.started_at, Run.created_at)


def _fail_active(conn: Connection, where: ColumnElement[bool], reason: str) -> list[int]:
    """Fail the active runs that `where` selects; the ids it changed (a finished run stays).
    What their LLM calls still hold in the budget ledger goes back."""
    failed = list(conn.execute(
        update(Run)
        .where(where, Run.status.in_(ACTIVE_STATUSES))
        .values(status=RunStatus.FAILED, completed_at=_now(), error_message=reason[:2000])
        .returning(Run.id)
    ).scalars())
    llm_budget.give_back(conn, failed)
    return failed


def find_completed(
    engine: Engine, *, issue_key: str, spec_hash: str
) -> tuple[int, str | None] | None:
    """The newest completed run of the same issue content, if any."""
    with engine.connect() as conn:
        row = conn.execute(
            select(Run.id, Run.pr_url)
            .where(Run.issue_key == issue_key, Run.spec_hash == spec_hash,
                   Run.status == RunStatus.COMPLETED)
            .order_by(Run.id.desc())
            .limit(1)
        ).first()
    return (row.id, row.pr_url) if row else None


def claim(
    engine: Engine,
    *,
    issue_key: str,
    summary: str,
    issue_data: dict[str, Any],
    spec_hash: str,
    flow_run_id: uuid.UUID | None,
    force: bool,
    lease: timedelta,
    flow_run_ended: FlowRunEnded | None = None,
    repository: str | None = None,
) -> Claim:
    """Insert the `processing` row, or report the active or completed run that stops us.

    An active run is taken over when its last sign of life is older than `lease`, or at once
    when `flow_run_ended` says its Prefect flow run is already over (it names the end state)."""
    if not force:
        done = find_completed(engine, issue_key=issue_key, spec_hash=spec_hash)
        if done:
            return Claim("already_completed", done[0], done[1])
    with engine.begin() as conn:
        _fail_active(conn, (Run.issue_key == issue_key) & (_last_sign_of_life() < _now() - lease),
                     f"abandoned: no heartbeat for over {lease}; taken over by a rerun")
    now = _now()
    try:
        with engine.begin() as conn:
            history_id = conn.execute(
                insert(Run)
                .values(
                    issue_key=issue_key,
                    issue_summary=summary,
                    status=RunStatus.PROCESSING,
                    started_at=now,
                    heartbeat_at=now,
                    issue_data=issue_data,
                    spec_hash=spec_hash,
                    flow_run_id=flow_run_id,
                    repository=repository,
                )
                .returning(Run.id)
            ).scalar_one()
    except IntegrityError:
        with engine.connect() as conn:
            active = conn.execute(
                select(Run.id, Run.flow_run_id)
                .where(Run.issue_key == issue_key, Run.status.in_(ACTIVE_STATUSES))
            ).first()
        again = functools.partial(
            claim, engine, issue_key=issue_key, summary=summary, issue_data=issue_data,
            spec_hash=spec_hash, flow_run_id=flow_run_id, force=force, lease=lease,
            flow_run_ended=flow_run_ended, repository=repository)
        if active is None:  # the active run finished between our insert and this read
            return again()
        ended = (flow_run_ended(active.flow_run_id)
                 if flow_run_ended and active.flow_run_id not in (None, flow_run_id) else None)
        if ended:
            with engine.begin() as conn:
                _fail_active(conn, Run.id == active.id, f"abandoned: its Prefect flow run "
                             f"ended {ended}; taken over by a rerun")
            return again()
        return Claim("already_processing", int(active.id))
    return Claim("claimed", int(history_id))


def heartbeat(engine: Engine, history_id: int, **progress: Any) -> None:
    """Prove the run is alive; optionally record progress columns (e.g. branch_name)."""
    with engine.begin() as conn:
        conn.execute(
            update(Run)
            .where(Run.id == history_id, Run.status == RunStatus.PROCESSING)
            .values(heartbeat_at=_now(), **progress)
        )


def record_estimate(engine: Engine, history_id: int, *, first_attempt: Decimal | None,
                    worst_case: Decimal | None, method: str) -> None:
    """The run's cost estimate, made before its first edit call, beside its actual cost."""
    with engine.begin() as conn:
        conn.execute(update(Run).where(Run.id == history_id).values(
            cost_estimate_usd=first_attempt, cost_estimate_worst_usd=worst_case,
            cost_estimate_method=method[:80]))


def finish(
    engine: Engine,
    *,
    history_id: int,
    status: RunStatus,
    modified_files_count: int,
    result_data: dict[str, Any],
    error_message: str | None,
    pr_url: str | None,
    branch_name: str | None,
) -> None:
    """End a run as completed or failed, with its result and duration."""
    if status not in (RunStatus.COMPLETED, RunStatus.FAILED):
        raise ValueError(f"a run ends completed or failed, not {status}")
    now = _now()
    with engine.begin() as conn:
        started = conn.execute(select(Run.started_at).where(Run.id == history_id)).scalar_one()
        conn.execute(
            update(Run)
            .where(Run.id == history_id)
            .values(
                status=status,
                completed_at=now,
                heartbeat_at=now,
                processing_duration_seconds=Decimal(
                    f"{(now - (started or now)).total_seconds():.3f}"
                ),
                modified_files_count=modified_files_count,
                result_data=result_data,
                error_message=error_message,
                pr_url=pr_url,
                branch_name=branch_name,
            )
        )
        llm_budget.give_back(conn, [history_id])


def fail_active_for_flow_run(engine: Engine, flow_run_id: uuid.UUID, message: str) -> int:
    """Mark the run of a failed or crashed Prefect flow run failed; returns rows changed."""
    with engine.begin() as conn:
        return len(_fail_active(conn, Run.flow_run_id == flow_run_id, message))


def reap(engine: Engine, *, older_than: timedelta, flow_run_ended: FlowRunEnded,
         on_abandoned: Callable[[uuid.UUID, str], None] | None = None) -> tuple[int, list[int]]:
    """Fail active runs whose flow run is over, or whose last sign of life is older than
    `older_than` (a long run that still beats is kept); (runs examined, ids failed).
    `on_abandoned` hears of each silent run's flow run (and why), which Prefect may still
    show as running: its process died without a word."""
    now = _now()
    with engine.connect() as conn:
        rows = conn.execute(select(Run.id, Run.flow_run_id, _last_sign_of_life().label("alive"))
                            .where(Run.status.in_(ACTIVE_STATUSES))).all()
    reaped = []
    for row in rows:
        state = flow_run_ended(row.flow_run_id) if row.flow_run_id else None
        age = now - row.alive
        if state:
            reason = f"reaped: its Prefect flow run ended {state} without finishing the history"
        elif age > older_than:
            reason = f"reaped: no sign of life for {age} (limit {older_than})"
        else:
            continue
        with engine.begin() as conn:
            if not _fail_active(conn, Run.id == row.id, reason):
                continue
        logger.warning("history %s %s", row.id, reason)
        reaped.append(row.id)
        if on_abandoned and row.flow_run_id and not state:
            on_abandoned(row.flow_run_id, reason)
    return len(rows), reaped


def record_refused(
    engine: Engine,
    *,
    issue_key: str,
    summary: str,
    issue_data: dict[str, Any],
    flow_run_id: uuid.UUID | None,
    reason: str,
    repository: str | None = None,
) -> int:
    """A run refused before any spend (bad issue, bad configuration), recorded as failed."""
    now = _now()
    with engine.begin() as conn:
        return int(
            conn.execute(
                insert(Run)
                .values(
                    issue_key=issue_key,
                    issue_summary=summary or None,
                    status=RunStatus.FAILED,
                    started_at=now,
                    completed_at=now,
                    processing_duration_seconds=Decimal(0),
                    issue_data=issue_data,
                    flow_run_id=flow_run_id,
                    error_message=reason,
                    result_data={"outcome": "refused", "reason": reason},
                    repository=repository,
                )
                .returning(Run.id)
            ).scalar_one()
        )


def record_unstarted(engine: Engine, *, issue_key: str, flow_run_id: uuid.UUID,
                     reason: str) -> int | None:
    """A failed run for a flow run that ended before it claimed its issue (an accepted
    webhook delivery whose run crashed early); None when the flow wrote its row meanwhile."""
    with engine.begin() as conn:
        if conn.execute(select(exists().where(Run.flow_run_id == flow_run_id))).scalar():
            return None
        return int(conn.execute(insert(Run).values(
            issue_key=issue_key, status=RunStatus.FAILED, error_message=reason[:2000],
            flow_run_id=flow_run_id, completed_at=_now(),
        ).returning(Run.id)).scalar_one())


@dataclass(frozen=True)
class RunCosts:
    cost: Decimal
    unpriced_calls: int
    tokens: int
    calls: int
    cache_hits: int
    estimate: Decimal | None = None  # made before the first edit call (tasks/estimate.py)
    estimate_worst: Decimal | None = None
    estimate_method: str | None = None


def run_costs(engine: Engine, history_id: int) -> RunCosts:
    """LLM totals of one run, with unpriced calls counted apart (never as $0), beside the
    estimate made before its edits."""
    with engine.connect() as conn:
        row = conn.execute(
            select(
                func.coalesce(func.sum(Call.estimated_cost), 0),
                func.count().filter(Call.estimated_cost.is_(None), ~Call.cache_hit),
                func.coalesce(func.sum(Call.total_tokens), 0),
                func.count(),
                func.count().filter(Call.cache_hit),
            ).where(Call.history_id == history_id)
        ).one()
        estimate = conn.execute(
            select(Run.cost_estimate_usd, Run.cost_estimate_worst_usd, Run.cost_estimate_method)
            .where(Run.id == history_id)).one()
    cost, unpriced, tokens, calls, hits = (value or 0 for value in row)  # COALESCE, count()
    return RunCosts(Decimal(cost), int(unpriced), int(tokens), int(calls), int(hits),
                    *estimate)


@dataclass(frozen=True)
class OpenedPullRequest:
    """The issue run that opened a pull request: what a revision of it builds on."""

    history_id: int
    issue_key: str
    branch_name: str | None


def run_for_pull_request(engine: Engine, pr_url: str) -> OpenedPullRequest | None:
    """The newest completed issue run whose PR is `pr_url`, or None: not a PR we opened."""
    with engine.connect() as conn:
        row = conn.execute(
            select(Run.id, Run.issue_key, Run.branch_name)
            .where(Run.pr_url == pr_url, Run.run_kind == RunKind.ISSUE,
                   Run.status == RunStatus.COMPLETED)
            .order_by(Run.id.desc()).limit(1)
        ).first()
    return OpenedPullRequest(row.id, row.issue_key, row.branch_name) if row else None


def claim_revision(engine: Engine, *, parent: OpenedPullRequest, comment_id: int,
                   summary: str, request_data: dict[str, Any], flow_run_id: uuid.UUID | None,
                   pr_url: str, lease: timedelta) -> Claim:
    """The `processing` revision run of one review comment, linked to the run that opened the
    PR. A comment is revised once ("already_completed" names the run that took it); while
    another run of the issue is active the claim is "already_processing" (one active run per
    issue key, as for issue runs), unless that run stopped beating for over `lease`."""
    taken = (Run.parent_history_id == parent.history_id) & (Run.run_kind == RunKind.REVISION) \
        & (Run.issue_data["comment_id"].astext == str(comment_id))
    with engine.begin() as conn:
        done = conn.execute(select(Run.id, Run.pr_url).where(taken).limit(1)).first()
        if done is not None:
            return Claim("already_completed", int(done.id), done.pr_url)
        _fail_active(conn, (Run.issue_key == parent.issue_key)
                     & (_last_sign_of_life() < _now() - lease),
                     f"abandoned: no heartbeat for over {lease}; taken over by a revision")
    now = _now()
    try:
        with engine.begin() as conn:
            history_id = conn.execute(insert(Run).values(
                issue_key=parent.issue_key, issue_summary=summary, status=RunStatus.PROCESSING,
                started_at=now, heartbeat_at=now, issue_data={**request_data,
                                                              "comment_id": comment_id},
                flow_run_id=flow_run_id, run_kind=RunKind.REVISION,
                parent_history_id=parent.history_id, branch_name=parent.branch_name,
                pr_url=pr_url, repository=select(Run.repository).where(
                    Run.id == parent.history_id).scalar_subquery()).returning(Run.id)
            ).scalar_one()
    except IntegrityError:
        with engine.connect() as conn:
            active = conn.execute(select(Run.id).where(
                Run.issue_key == parent.issue_key, Run.status.in_(ACTIVE_STATUSES))).first()
        if active is None:  # it finished between our insert and this read
            return claim_revision(engine, parent=parent, comment_id=comment_id, summary=summary,
                                  request_data=request_data, flow_run_id=flow_run_id,
                                  pr_url=pr_url, lease=lease)
        return Claim("already_processing", int(active.id))
    return Claim("claimed", int(history_id))


@dataclass(frozen=True)
class RunOrigin:
    """Where a run went and the issue it was claimed with (a revision's: its parent's)."""

    repository: str | None
    issue_data: dict[str, Any]


def run_origin(engine: Engine, history_id: int) -> RunOrigin | None:
    parent = aliased(Run)
    with engine.connect() as conn:
        row = conn.execute(
            select(Run.repository, func.coalesce(parent.issue_data, Run.issue_data))
            .outerjoin(parent, parent.id == Run.parent_history_id)
            .where(Run.id == history_id)).first()
    if row is None:
        return None
    return RunOrigin(row[0], row[1] if isinstance(row[1], dict) else {})


def issue_data(engine: Engine, history_id: int) -> dict[str, Any]:
    """The issue JSON a run was claimed with (empty when it has none)."""
    with engine.connect() as conn:
        data = conn.execute(select(Run.issue_data).where(Run.id == history_id)).scalar()
    return data if isinstance(data, dict) else {}


def jira_comment_id(engine: Engine, history_id: int) -> str | None:
    """The Jira comment of this run, else of the newest earlier run of the same issue
    content (same key and spec hash: a retry or take-over), so a rerun edits that comment."""
    this = select(Run.issue_key, Run.spec_hash).where(Run.id == history_id).subquery()
    with engine.connect() as conn:
        return conn.execute(
            select(Run.jira_comment_id)
            .where(Run.issue_key == this.c.issue_key, Run.spec_hash == this.c.spec_hash,
                   Run.id <= history_id, Run.jira_comment_id.is_not(None))
            .order_by(Run.id.desc())
            .limit(1)
        ).scalar()


def jira_comment_ids(engine: Engine, issue_key: str) -> frozenset[str]:
    """Every Jira comment the runs of this issue wrote: the agent's own, whoever Jira says
    wrote them."""
    with engine.connect() as conn:
        ids = conn.execute(select(Run.jira_comment_id).where(
            Run.issue_key == issue_key, Run.jira_comment_id.is_not(None))).scalars()
        return frozenset(comment_id for comment_id in ids if comment_id)


def set_jira_comment_id(engine: Engine, history_id: int, comment_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(Run).where(Run.id == history_id)
                     .values(jira_comment_id=comment_id[:64]))
