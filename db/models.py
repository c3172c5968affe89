"""Typed SQLAlchemy models of the history schema (the seed's four tables, corrected, plus ours).

Timestamps are `timestamptz` in UTC. The three high-volume append-only tables are range
partitioned by month on `created_at` (their primary key includes it) so retention can drop
partitions; `db/partitions.py` names and creates the partitions.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class RunStatus(StrEnum):
    """An issue run's status; every change of it is made by `db/issue_runs.py`."""

    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class RunKind(StrEnum):
    """What a run does: turn an issue into a PR, or revise that PR after a review comment."""

    ISSUE = "issue"
    REVISION = "revision"


ISSUE_STATUSES: tuple[str, ...] = tuple(status.value for status in RunStatus)
ACTIVE_STATUSES: tuple[str, ...] = (RunStatus.QUEUED.value, RunStatus.PROCESSING.value)
FILE_ACTIONS = ("modified", "created", "deleted")
FILE_OUTCOMES = ("applied", "unchanged", "failed")
LLM_CALL_TYPES = ("spec_conversion", "code_diff", "new_file", "other")
API_METHODS = ("GET", "POST", "PUT", "DELETE")
DELIVERY_OUTCOMES = ("queued", "accepted", "duplicate", "ignored", "rejected", "failed")
PARTITIONED_TABLES = ("file_modification_history", "llm_call_history", "bitbucket_api_history")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSONB}


def _created_at() -> Mapped[datetime]:
    return mapped_column(server_default=func.now(), nullable=False)


class IssueProcessingHistory(Base):
    """One attempt to turn one Jira issue into a pull request."""

    __tablename__ = "issue_processing_history"
    __table_args__ = (
        CheckConstraint(_in("status", ISSUE_STATUSES), name="check_status"),
        CheckConstraint("modified_files_count >= 0", name="check_modified_files_count"),
        CheckConstraint(_in("run_kind", tuple(kind.value for kind in RunKind)),
                        name="check_run_kind"),
        Index("idx_iph_issue_key", "issue_key"),
        Index("idx_iph_status", "status"),
        Index("idx_iph_created_at", text("created_at DESC")),
        Index(
            "idx_iph_completed_at",
            text("completed_at DESC"),
            postgresql_where=text("completed_at IS NOT NULL"),
        ),
        Index("idx_iph_issue_data", "issue_data", postgresql_using="gin"),
        Index("idx_iph_result_data", "result_data", postgresql_using="gin"),
        Index("idx_iph_issue_key_status", "issue_key", "status"),
        Index(
            "uq_iph_active_issue",
            "issue_key",
            unique=True,
            postgresql_where=text(_in("status", ACTIVE_STATUSES)),
        ),
        Index("idx_iph_flow_run_id", "flow_run_id"),
        Index("idx_iph_parent_history_id", "parent_history_id"),
        Index("idx_iph_project_key", "project_key"),
        Index("idx_iph_repository", "repository"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_key: Mapped[str] = mapped_column(String(50))
    # the Jira project (the key's prefix) and where its run went: `workspace/repository` or a
    # local path; NULL for runs recorded before routing (migration 0009 says why)
    project_key: Mapped[str | None] = mapped_column(
        String(50), Computed("split_part(issue_key, '-', 1)", persisted=True))
    repository: Mapped[str | None] = mapped_column(Text)
    issue_summary: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    branch_name: Mapped[str | None] = mapped_column(String(255))
    pr_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created_at()
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    processing_duration_seconds: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    modified_files_count: Mapped[int] = mapped_column(server_default="0")
    error_message: Mapped[str | None] = mapped_column(Text)
    issue_data: Mapped[dict[str, Any] | None]
    result_data: Mapped[dict[str, Any] | None]
    flow_run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    spec_hash: Mapped[str | None] = mapped_column(String(64))
    heartbeat_at: Mapped[datetime | None]
    run_kind: Mapped[str] = mapped_column(String(20), server_default=RunKind.ISSUE.value)
    parent_history_id: Mapped[int | None] = mapped_column(
        ForeignKey("issue_processing_history.id", ondelete="CASCADE"))
    jira_comment_id: Mapped[str | None] = mapped_column(String(64))
    # spend control (db/llm_budget.py): the estimate made before the first edit, and the
    # run's share of the ledger that keeps LLM_BUDGET_PER_RUN_USD
    cost_estimate_usd: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    cost_estimate_worst_usd: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    cost_estimate_method: Mapped[str | None] = mapped_column(String(80))
    llm_reserved_usd: Mapped[Decimal] = mapped_column(Numeric(12, 6), server_default="0")
    llm_spent_usd: Mapped[Decimal] = mapped_column(Numeric(12, 6), server_default="0")


class _RunChild:
    """Columns of the partitioned child tables: `created_at` is in the primary key because
    PostgreSQL requires the partition key there."""

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(
        primary_key=True, server_default=func.now(), nullable=False
    )
    history_id: Mapped[int] = mapped_column(
        ForeignKey("issue_processing_history.id", ondelete="CASCADE")
    )
    task_run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class FileModificationHistory(_RunChild, Base):
    """What happened to one target file in one issue run (diff, encodings, outcome)."""

    __tablename__ = "file_modification_history"
    __table_args__ = (
        CheckConstraint(_in("action", FILE_ACTIONS), name="check_action"),
        CheckConstraint(_in("outcome", FILE_OUTCOMES), name="check_outcome"),
        Index("idx_fmh_history_id", "history_id"),
        Index("idx_fmh_file_path", "file_path"),
        Index("idx_fmh_created_at", text("created_at DESC")),
        Index("idx_fmh_file_path_created", "file_path", text("created_at DESC")),
        {"postgresql_partition_by": "RANGE (created_at)"},
    )

    file_path: Mapped[str] = mapped_column(String(500))
    action: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20), server_default="applied")
    diff_count: Mapped[int] = mapped_column(server_default="0")
    hunk_count: Mapped[int] = mapped_column(server_default="0")
    diff_text: Mapped[str | None] = mapped_column(Text)
    original_encoding: Mapped[str | None] = mapped_column(String(50))
    modified_encoding: Mapped[str | None] = mapped_column(String(50))
    eol_style: Mapped[str | None] = mapped_column(String(10))
    original_content: Mapped[str | None] = mapped_column(Text)
    modified_content: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)


class LlmCallHistory(_RunChild, Base):
    """One LLM call (or cache hit) with its tokens and cost; cost NULL means unpriced."""

    __tablename__ = "llm_call_history"
    __table_args__ = (
        CheckConstraint(_in("call_type", LLM_CALL_TYPES), name="check_call_type"),
        CheckConstraint("estimated_cost IS NULL OR estimated_cost >= 0", name="check_cost"),
        Index("idx_lch_history_id", "history_id"),
        Index("idx_lch_call_type", "call_type"),
        Index("idx_lch_created_at", text("created_at DESC")),
        Index("idx_lch_cache_hit", "cache_hit"),
        {"postgresql_partition_by": "RANGE (created_at)"},
    )

    call_type: Mapped[str] = mapped_column(String(50))
    model: Mapped[str] = mapped_column(String(100))
    prompt_tokens: Mapped[int | None]
    completion_tokens: Mapped[int | None]
    total_tokens: Mapped[int | None]
    cached_tokens: Mapped[int | None]
    reasoning_tokens: Mapped[int | None]
    estimated_cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    cache_hit: Mapped[bool] = mapped_column(Boolean, server_default="false")
    cache_key: Mapped[str | None] = mapped_column(String(255))
    duration_seconds: Mapped[Decimal | None] = mapped_column(Numeric(8, 3))
    provider_request_id: Mapped[str | None] = mapped_column(String(255))
    success: Mapped[bool] = mapped_column(Boolean, server_default="true")
    error_message: Mapped[str | None] = mapped_column(Text)


class _ApiCallColumns:
    """One outside call as a history row: the git host's (`bitbucket_api_history`) and
    Jira's (`jira_api_history`) have the same columns."""

    api_method: Mapped[str] = mapped_column(String(10))
    endpoint: Mapped[str] = mapped_column(String(500))
    status_code: Mapped[int | None]
    duration_seconds: Mapped[Decimal | None] = mapped_column(Numeric(8, 3))
    attempt: Mapped[int] = mapped_column(server_default="1")
    rate_limit: Mapped[dict[str, Any] | None]
    error_message: Mapped[str | None] = mapped_column(Text)


class BitbucketApiHistory(_RunChild, _ApiCallColumns, Base):
    """One git-host call with its real status code and rate-limit headers."""

    __tablename__ = "bitbucket_api_history"
    __table_args__ = (
        CheckConstraint(_in("api_method", API_METHODS), name="check_api_method"),
        Index("idx_bah_history_id", "history_id"),
        Index("idx_bah_endpoint", "endpoint"),
        Index("idx_bah_status_code", "status_code"),
        Index("idx_bah_created_at", text("created_at DESC")),
        {"postgresql_partition_by": "RANGE (created_at)"},
    )



class JiraApiHistory(_ApiCallColumns, Base):
    """One Jira call of a run (comments, transitions, issue reads), as the git host's calls
    are recorded; few per run, so not partitioned."""

    __tablename__ = "jira_api_history"
    __table_args__ = (
        CheckConstraint(_in("api_method", API_METHODS), name="check_api_method"),
        Index("idx_jah_history_id", "history_id"),
        Index("idx_jah_created_at", text("created_at DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = _created_at()
    history_id: Mapped[int] = mapped_column(
        ForeignKey("issue_processing_history.id", ondelete="CASCADE"))
    task_run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class LlmResponseCache(Base):
    """A validated LLM response, reusable until `expires_at`."""

    __tablename__ = "llm_response_cache"
    __table_args__ = (Index("idx_lrc_expires_at", "expires_at"),)

    cache_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(100))
    call_type: Mapped[str] = mapped_column(String(50))
    response: Mapped[dict[str, Any]]
    prompt_tokens: Mapped[int | None]
    completion_tokens: Mapped[int | None]
    hit_count: Mapped[int] = mapped_column(server_default="0")
    created_at: Mapped[datetime] = _created_at()
    expires_at: Mapped[datetime]


class WebhookDelivery(Base):
    """One webhook request, accepted or not; the delivery id dedupes Jira's retries.

    An accepted delivery is also an outbox entry: the run to start is written with the row
    (`queued`) before the 202, and the hand-off loop records its flow run (`accepted`).
    `handoff_due_at` is when a loop may next try it: a claim moves it forward by a lease, a
    failed attempt by the backoff."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        CheckConstraint(_in("outcome", DELIVERY_OUTCOMES), name="check_outcome"),
        Index("idx_wd_received_at", "received_at"),
        Index("idx_wd_issue_key", "issue_key"),
        Index("idx_wd_handoff_due", "handoff_due_at", postgresql_where=text("outcome = 'queued'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    delivery_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    received_at: Mapped[datetime] = mapped_column(server_default=func.now(), nullable=False)
    event_type: Mapped[str | None] = mapped_column(String(100))
    issue_key: Mapped[str | None] = mapped_column(String(50))
    outcome: Mapped[str] = mapped_column(String(20))
    http_status: Mapped[int]
    reason: Mapped[str | None] = mapped_column(Text)
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    flow_run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    deployment: Mapped[str | None] = mapped_column(String(200))
    run_parameters: Mapped[dict[str, Any] | None]
    run_tags: Mapped[list[str] | None] = mapped_column(ARRAY(String(100)))
    idempotency_key: Mapped[str | None] = mapped_column(Text)
    handoff_due_at: Mapped[datetime | None]
    handoff_attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    handoff_error: Mapped[str | None] = mapped_column(Text)
    handed_off_at: Mapped[datetime | None]


class MaintenanceRun(Base):
    """One run of a maintenance flow and the figures it reported."""

    __tablename__ = "maintenance_run"
    __table_args__ = (
        CheckConstraint(_in("status", ("running", "succeeded", "failed")), name="check_status"),
        Index("idx_mr_flow_started", "flow_name", text("started_at DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    flow_name: Mapped[str] = mapped_column(String(100))
    flow_run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(server_default=func.now(), nullable=False)
    finished_at: Mapped[datetime | None]
    figures: Mapped[dict[str, Any] | None]
    error_message: Mapped[str | None] = mapped_column(Text)


class Backup(Base):
    """One `pg_dump -Fc` file, its checksum and when it was verified and test-restored."""

    __tablename__ = "backup"
    __table_args__ = (
        CheckConstraint(_in("kind", ("daily", "weekly", "manual")), name="check_kind"),
        Index("idx_backup_created_at", text("created_at DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    file_path: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    server_version: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = _created_at()
    verified_at: Mapped[datetime | None]
    restore_tested_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]


class _RolledUpFigures:
    """The figures a closed day (`stats_daily`) and a day's closed hours (`stats_hourly`)
    both keep: runs by status, files, the duration histogram, git-host and LLM totals."""

    queued: Mapped[int] = mapped_column(Integer)
    processing: Mapped[int] = mapped_column(Integer)
    completed: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    files_modified: Mapped[int] = mapped_column(BigInteger)
    duration_count: Mapped[int] = mapped_column(Integer)
    duration_sum: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    duration_hist: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    duration_hist_sum: Mapped[list[float]] = mapped_column(ARRAY(Double))
    bitbucket_calls: Mapped[int] = mapped_column(Integer)
    bitbucket_errors: Mapped[int] = mapped_column(Integer)
    llm_calls: Mapped[int] = mapped_column(Integer)
    llm_cache_hits: Mapped[int] = mapped_column(Integer)
    llm_priced_calls: Mapped[int] = mapped_column(Integer)
    llm_unpriced_calls: Mapped[int] = mapped_column(Integer)
    llm_cost: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    llm_prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    llm_completion_tokens: Mapped[int] = mapped_column(BigInteger)
    llm_cached_tokens: Mapped[int] = mapped_column(BigInteger)
    llm_total_tokens: Mapped[int] = mapped_column(BigInteger)


class StatsDaily(_RolledUpFigures, Base):
    """One closed UTC day of issue runs, git-host calls and LLM calls, rolled up so /stats
    reads no rows.

    Runs count on the day they were created. Durations of completed runs are kept as a
    histogram (`db/duration_histogram.py` defines the log-spaced buckets) so percentiles over
    many days come from summed histograms: per bucket, how many runs and the sum of their
    durations. The day's own p50 and p95 and its LLM totals (all models) are kept too, so
    /stats/daily reads one narrow row per closed day; and the histogram summed over every day
    rolled up through this one (`duration_cum*`), so any span's histogram is the difference
    of two rows rather than the sum of a year of them.
    """

    __tablename__ = "stats_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    p50_seconds: Mapped[float | None] = mapped_column(Double)
    p95_seconds: Mapped[float | None] = mapped_column(Double)
    duration_cum: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    duration_cum_sum: Mapped[list[float]] = mapped_column(ARRAY(Double))
    rolled_up_at: Mapped[datetime] = _created_at()


class StatsLlmDaily(Base):
    """One closed UTC day of LLM calls per model and call type; NULL costs counted apart."""

    __tablename__ = "stats_llm_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    call_type: Mapped[str] = mapped_column(String(50), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer)
    cache_hits: Mapped[int] = mapped_column(Integer)
    priced_calls: Mapped[int] = mapped_column(Integer)
    unpriced_calls: Mapped[int] = mapped_column(Integer)
    cost: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    prompt_tokens: Mapped[int] = mapped_column(BigInteger)
    completion_tokens: Mapped[int] = mapped_column(BigInteger)
    cached_tokens: Mapped[int] = mapped_column(BigInteger)
    total_tokens: Mapped[int] = mapped_column(BigInteger)


class LlmBudgetDay(Base):
    """One UTC day of the LLM ledger, across all runs and workers: what calls in flight have
    reserved (their worst case) and what answered calls cost. One row per day, so a reservation
    is one conditional UPDATE that PostgreSQL's row lock serialises."""

    __tablename__ = "llm_budget_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reserved_usd: Mapped[Decimal] = mapped_column(Numeric(14, 6), server_default="0")
    spent_usd: Mapped[Decimal] = mapped_column(Numeric(14, 6), server_default="0")
    calls: Mapped[int] = mapped_column(Integer, server_default="0")
    refusals: Mapped[int] = mapped_column(Integer, server_default="0")
    updated_at: Mapped[datetime] = _created_at()


class LlmBudgetReservation(Base):
    """One call's reservation while it is in flight; a leftover (its process died) is given
    back when its run ends or is reaped."""

    __tablename__ = "llm_budget_reservation"
    __table_args__ = (Index("idx_lbr_history_id", "history_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    history_id: Mapped[int | None] = mapped_column(
        ForeignKey("issue_processing_history.id", ondelete="SET NULL"))
    amount_usd: Mapped[Decimal] = mapped_column(Numeric(12, 6))
    created_at: Mapped[datetime] = _created_at()


class LlmBudgetCap(Base):
    """A cap set at run time (`sdb-agent budget set`); it wins over the environment's value
    and applies to the next call of every active run."""

    __tablename__ = "llm_budget_cap"
    __table_args__ = (CheckConstraint(_in("name", ("per_run", "per_day")), name="check_name"),)

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    usd: Mapped[Decimal | None] = mapped_column(Numeric(12, 6))
    updated_at: Mapped[datetime] = _created_at()


class CostAlert(Base):
    """One crossing of COST_ALERT_USD on one UTC day: the unique key makes it one alert."""

    __tablename__ = "cost_alert"
    __table_args__ = (Index("uq_cost_alert_day_threshold", "day", "threshold_usd", unique=True),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    threshold_usd: Mapped[Decimal] = mapped_column(Numeric(12, 6))
    spent_usd: Mapped[Decimal] = mapped_column(Numeric(14, 6))
    created_at: Mapped[datetime] = _created_at()
    channels: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)


class StatsFileDaily(Base):
    """One closed UTC day of file records per repository path, for /stats/top-files.

    A file record counts on the day its run was created (as runs do), so one run's records
    never split across days and the distinct runs (`issues`) add up over any span of days."""

    __tablename__ = "stats_file_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    file_path: Mapped[str] = mapped_column(String(500), primary_key=True)
    modifications: Mapped[int] = mapped_column(Integer)
    issues: Mapped[int] = mapped_column(Integer)
    last_modified: Mapped[datetime]


class StatsFileTotal(Base):
    """`stats_file_daily` summed per path over every rolled-up day, rewritten with each
    rollup, so the paths of all history are read without reading every day."""

    __tablename__ = "stats_file_total"

    file_path: Mapped[str] = mapped_column(String(500), primary_key=True)
    modifications: Mapped[int] = mapped_column(BigInteger)
    issues: Mapped[int] = mapped_column(BigInteger)
    last_modified: Mapped[datetime]


class StatsFailureDaily(Base):
    """One closed UTC day of failed runs per error preview (its first 100 characters; NULL
    when the run recorded no error), for /stats/failures."""

    __tablename__ = "stats_failure_daily"
    __table_args__ = (Index("idx_sfd_day", "day"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    error_preview: Mapped[str | None] = mapped_column(String(100))
    occurrences: Mapped[int] = mapped_column(Integer)
    last_seen: Mapped[datetime]


class StatsRunHourly(Base):
    """Completed runs of one UTC hour of a closed day (by creation), for /stats/hourly."""

    __tablename__ = "stats_run_hourly"

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    completed: Mapped[int] = mapped_column(Integer)
    duration_count: Mapped[int] = mapped_column(Integer)
    duration_sum: Mapped[Decimal] = mapped_column(Numeric(18, 3))


class StatsGitHourly(Base):
    """Git-host calls of one UTC hour of a closed day per method, for /stats/git-host/hourly."""

    __tablename__ = "stats_git_hourly"

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    api_method: Mapped[str] = mapped_column(String(10), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer)
    errors: Mapped[int] = mapped_column(Integer)
    duration_count: Mapped[int] = mapped_column(Integer)
    duration_sum: Mapped[Decimal] = mapped_column(Numeric(18, 3))


class StatsHourly(_RolledUpFigures, Base):
    """One closed UTC hour of a day not rolled up yet (normally today), holding that day's
    figures from midnight through the end of the hour (as `stats_daily` has its days), so
    /stats reads one row for today's closed hours instead of their rows. Its rows go when
    their day is rolled up."""

    __tablename__ = "stats_hourly"

    hour: Mapped[datetime] = mapped_column(primary_key=True)
