"""Read API over the run history: the runs, one run in full, and one file's modifications."""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, BeforeValidator

from base.issue_keys import ISSUE_KEY, MAX_ISSUE_KEY
from db.history_queries import Cursor, RunFilter, file_history, list_runs, run_detail
from db.models import RunStatus
from deployments.http.deps import EngineDep, ProjectParam, ReadAuth, RepositoryParam

router = APIRouter(tags=["history"], dependencies=[ReadAuth])
NO_NUL = "^[^\\x00]+$"

MAX_ID = 2**31 - 1


def _f(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


class _Run(BaseModel):
    """Fields every view of a run shares."""

    id: int
    issue_key: str
    summary: str | None
    status: str
    branch: str | None
    pr_url: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    duration_seconds: float | None
    modified_files_count: int
    error_message: str | None


class RunItem(_Run):
    project_key: str | None
    repository: str | None  # null: recorded before routing (migration 0009)
    file_records: int
    llm_calls: int
    llm_cost_usd: float | None
    llm_unpriced_calls: int


class RunPage(BaseModel):
    items: list[RunItem]
    limit: int
    has_more: bool
    next_cursor: str | None


class FileRecord(BaseModel):
    id: int
    created_at: datetime
    task_run_id: uuid.UUID | None
    file_path: str
    action: str
    outcome: str
    diff_count: int
    hunk_count: int
    diff_text: str | None
    original_encoding: str | None
    modified_encoding: str | None
    eol_style: str | None
    summary: str | None
    error_message: str | None
    original_content: str | None = None
    modified_content: str | None = None


class LlmCallRecord(BaseModel):
    id: int
    created_at: datetime
    task_run_id: uuid.UUID | None
    call_type: str
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None
    cached_tokens: int | None
    reasoning_tokens: int | None
    cost_usd: float | None
    cache_hit: bool
    duration_seconds: float | None
    success: bool
    provider_request_id: str | None
    error_message: str | None


class BitbucketCallRecord(BaseModel):
    id: int
    created_at: datetime
    task_run_id: uuid.UUID | None
    api_method: str
    endpoint: str
    status_code: int | None
    duration_seconds: float | None
    attempt: int
    rate_limit: dict[str, Any] | None
    error_message: str | None


class LlmSummary(BaseModel):
    calls: int
    cache_hits: int
    total_tokens: int
    cost_usd: float | None
    unpriced_calls: int


class RevisionRecord(BaseModel):
    """A revision run of this run's PR, started by a review comment."""

    id: int
    status: str
    created_at: datetime
    completed_at: datetime | None
    modified_files_count: int
    error_message: str | None
    comment_id: int | None
    commit: str | None


class RunDetail(_Run):
    run_kind: str
    parent_history_id: int | None
    revisions: list[RevisionRecord]
    heartbeat_at: datetime | None
    spec_hash: str | None
    flow_run_id: uuid.UUID | None
    issue_data: dict[str, Any] | None
    result_data: dict[str, Any] | None
    content_included: bool
    files: list[FileRecord]
    llm_calls: list[LlmCallRecord]
    llm: LlmSummary
    bitbucket_calls: list[BitbucketCallRecord]


class FileChange(BaseModel):
    id: int
    created_at: datetime
    history_id: int
    issue_key: str
    issue_summary: str | None
    run_status: str
    pr_url: str | None
    action: str
    outcome: str
    diff_count: int
    hunk_count: int
    diff_bytes: int | None
    original_encoding: str | None
    modified_encoding: str | None
    eol_style: str | None
    summary: str | None
    error_message: str | None


class FileHistory(BaseModel):
    file_path: str
    items: list[FileChange]


def encode_cursor(cursor: Cursor) -> str:
    raw = f"{cursor.created_at.isoformat()}|{cursor.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> Cursor:
    """The cursor of a previous page; 422 when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        at, _, id_ = raw.partition("|")
        cursor = Cursor(datetime.fromisoformat(at), int(id_))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        cursor = None
    if cursor is None or cursor.created_at.tzinfo is None or not 0 < cursor.id <= MAX_ID:
        raise invalid("cursor", "not a valid cursor")
    return Cursor(_utc(cursor.created_at, "cursor"), cursor.id)


def invalid(parameter: str, message: str) -> RequestValidationError:
    """A 422 shaped as FastAPI's own (the OpenAPI document's HTTPValidationError)."""
    return RequestValidationError([{"loc": ("query", parameter), "msg": message,
                                    "type": "value_error", "input": None}])


def _not_a_number(value: object) -> object:
    """ISO 8601 only: a bare number would otherwise be read as seconds since 1970."""
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        raise ValueError("expected an ISO 8601 date or date-time, not a number")
    return value


_NUMBER = re.compile(r"[+-]?[0-9]*\.?[0-9]+([eE][+-]?[0-9]+)?")
Instant = Annotated[datetime, BeforeValidator(_not_a_number)]


def _utc(value: datetime, name: str) -> datetime:
    """The instant in UTC (naive means UTC); PostgreSQL takes offsets only up to 15:59, and
    an instant at the edge of the calendar may not exist in UTC at all."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise invalid(name, "out of range") from None


def _run_item(row: dict[str, Any]) -> RunItem:
    return RunItem(
        id=row["id"], issue_key=row["issue_key"], summary=row["issue_summary"],
        status=row["status"], branch=row["branch_name"], pr_url=row["pr_url"],
        created_at=row["created_at"], started_at=row["started_at"],
        completed_at=row["completed_at"],
        duration_seconds=_f(row["processing_duration_seconds"]),
        modified_files_count=row["modified_files_count"], error_message=row["error_message"],
        project_key=row["project_key"], repository=row["repository"],
        file_records=row["file_records"], llm_calls=row["llm_calls"],
        llm_cost_usd=_f(row["llm_cost"]) if row["llm_priced_calls"] else None,
        llm_unpriced_calls=row["llm_unpriced_calls"])


@router.get("/history", response_model=RunPage)
def history(
    engine: EngineDep,
    status_: Annotated[RunStatus | None, Query(alias="status")] = None,
    issue_key: Annotated[str | None, Query(min_length=1, max_length=MAX_ISSUE_KEY,
                                           pattern=f"^{ISSUE_KEY.pattern}$")] = None,
    since: Annotated[Instant | None, Query(description="created at or after (UTC)")] = None,
    until: Annotated[Instant | None, Query(description="created before (UTC)")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200, pattern="^[A-Za-z0-9_-]+={0,2}$",
                                        description="next_cursor of the previous page")] = None,
    project: ProjectParam = None,
    repository: RepositoryParam = None,
) -> RunPage:
    """Issue runs, newest first, filtered and paged with a keyset cursor."""
    since = _utc(since, "since") if since is not None else None
    until = _utc(until, "until") if until is not None else None
    if since is not None and until is not None and since >= until:
        raise invalid("since", "since must be before until")
    after = decode_cursor(cursor) if cursor else None
    filters = RunFilter(status=status_, issue_key=issue_key, since=since, until=until,
                        project_key=project, repository=repository)
    rows = list_runs(engine, filters=filters, limit=limit + 1, after=after)
    items = [_run_item(row) for row in rows[:limit]]
    more = len(rows) > limit
    next_cursor = encode_cursor(Cursor(items[-1].created_at, items[-1].id)) if more else None
    return RunPage(items=items, limit=limit, has_more=more, next_cursor=next_cursor)


@router.get("/history/{history_id}", response_model=RunDetail,
            responses={404: {"description": "no run with this id"}})
def history_detail(
    engine: EngineDep,
    history_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    include_content: Annotated[bool, Query(description="add files' full contents")] = False,
) -> RunDetail:
    """One run: its files, LLM and Bitbucket calls (oldest first), revisions or parent run."""
    run = run_detail(engine, history_id, include_content=include_content)
    if run is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no run with id {history_id}")
    calls = [LlmCallRecord(**c, cost_usd=_f(c["estimated_cost"])) for c in run["llm_calls"]]
    priced = [c.cost_usd for c in calls if c.cost_usd is not None]
    return RunDetail(
        id=run["id"], issue_key=run["issue_key"], summary=run["issue_summary"],
        status=run["status"], branch=run["branch_name"], pr_url=run["pr_url"],
        created_at=run["created_at"], started_at=run["started_at"],
        completed_at=run["completed_at"], heartbeat_at=run["heartbeat_at"],
        run_kind=run["run_kind"], parent_history_id=run["parent_history_id"],
        revisions=[RevisionRecord(**r) for r in run["revisions"]],
        duration_seconds=_f(run["processing_duration_seconds"]),
        modified_files_count=run["modified_files_count"], error_message=run["error_message"],
        spec_hash=run["spec_hash"], flow_run_id=run["flow_run_id"],
        issue_data=run["issue_data"], result_data=run["result_data"],
        content_included=include_content,
        files=[FileRecord(**f) for f in run["files"]],
        llm_calls=calls,
        llm=LlmSummary(
            calls=len(calls), cache_hits=sum(c.cache_hit for c in calls),
            total_tokens=sum(c.total_tokens or 0 for c in calls),
            cost_usd=round(sum(priced), 6) if priced else None,
            unpriced_calls=sum(c.cost_usd is None and not c.cache_hit for c in calls)),
        bitbucket_calls=[BitbucketCallRecord(**b) for b in run["api_calls"]])


@router.get("/files/{file_path:path}/history", response_model=FileHistory)
def file_changes(
    engine: EngineDep,
    file_path: Annotated[str, Path(min_length=1, max_length=500, pattern=NO_NUL)],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> FileHistory:
    """Modifications of one repository path across runs, newest first."""
    rows = file_history(engine, file_path=file_path, limit=limit)
    return FileHistory(file_path=file_path, items=[FileChange(**row) for row in rows])
