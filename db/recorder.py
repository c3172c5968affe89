"""Stores client call reports in the history tables, one short transaction per row.

Recording must never break the call path: a failed write is logged and kept in `failures`
(the flow surfaces them in the run's result), and the caller's result is returned as usual.
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Engine, Table, insert
from sqlalchemy.exc import DBAPIError

from base import clock
from base.recording import ApiCall, LlmCall
from db.models import BitbucketApiHistory, JiraApiHistory, LlmCallHistory
from db.spool import Spool

logger = logging.getLogger(__name__)


def _seconds(value: float) -> Decimal:
    return Decimal(f"{value:.3f}")


class HistoryRecorder:
    """Records the calls of one issue run (and, optionally, one Prefect task run)."""

    def __init__(self, engine: Engine, *, history_id: int, task_run_id: uuid.UUID | None = None,
                 spool: Spool | None = None):
        self.engine = engine
        self.history_id = history_id
        self.task_run_id = task_run_id
        self.spool = spool
        self.failures: list[str] = []

    def _insert(self, table: Table, values: dict[str, Any], what: str) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(table), values)  # one cached statement per table
        except Exception as exc:  # also pool TimeoutError
            orig = exc.orig if isinstance(exc, DBAPIError) else None
            reason = type(orig or exc).__name__
            message = f"could not record {what} for history {self.history_id}: {reason}"
            if self.spool is not None:
                try:
                    self.spool.keep(table, {"created_at": clock.now(), **values})
                    message += f"; kept in {self.spool.path} until the database is back"
                except OSError as disk:
                    message += f"; the spool failed too ({disk.strerror})"
            logger.error(message)
            self.failures.append(message)

    api_table = cast(Table, BitbucketApiHistory.__table__)

    def record_api_call(self, call: ApiCall) -> None:
        self._insert(self.api_table, dict(
            history_id=self.history_id, task_run_id=self.task_run_id,
            api_method=call.method, endpoint=call.endpoint[:500], status_code=call.status_code,
            duration_seconds=_seconds(call.duration_seconds), attempt=call.attempt,
            rate_limit=call.rate_limit or None, error_message=call.error,
        ), f"{call.method} {call.endpoint}")

    def record_llm_call(self, call: LlmCall) -> None:
        self._insert(cast(Table, LlmCallHistory.__table__), dict(
            history_id=self.history_id, task_run_id=self.task_run_id,
            call_type=call.call_type, model=call.model[:100],
            prompt_tokens=call.prompt_tokens, completion_tokens=call.completion_tokens,
            total_tokens=call.total_tokens, cached_tokens=call.cached_tokens,
            reasoning_tokens=call.reasoning_tokens, estimated_cost=call.cost,
            cache_hit=call.cache_hit, cache_key=call.cache_key,
            duration_seconds=_seconds(call.duration_seconds),
            provider_request_id=call.provider_request_id,
            success=call.error is None, error_message=call.error,
        ), f"LLM call {call.call_type}")


class JiraHistoryRecorder(HistoryRecorder):
    """Records a run's Jira calls in `jira_api_history`, as the git host's are recorded."""

    api_table = cast(Table, JiraApiHistory.__table__)
