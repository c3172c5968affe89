"""One target file: prompt, apply with the edit engine, prove the bytes, record the row.

A failed apply is sent back to the LLM as its own answer followed by the engine's error, up
to `EDIT_ATTEMPTS` times.
Any failure ends as a `failed` outcome for this file only; the other files go on.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from prefect import task
from prefect.client.schemas.objects import State
from prefect.states import Failed
from pydantic import BaseModel

from base.errors import IntegrationError
from base.settings import Settings
from base.targets import Target
from db.file_history import record_file
from editing import (
    Edit,
    EditError,
    EditResult,
    EncodingLabel,
    FileRefusedError,
    FileTooLargeError,
    apply_edits,
    create_file,
    decide_encoding,
)
from integrations.llm.client import LlmClient, LlmOutputError, LlmResult
from integrations.llm.prompts import Turn
from integrations.llm.schemas import Kind
from tasks.context import RunContext, current_task_run_id, run_context, task_logger
from tasks.edit_prompt import edit_prompt, new_file_prompt
from tasks.failure_words import for_people
from tasks.limits import file_slot, llm_slot
from tasks.outcomes import FileOutcome
from tasks.retry import BACKOFF, JITTER, database_hiccup

DIFF_EXCERPT_CHARS = 600


@dataclass(frozen=True)
class _Applied:
    """An attempt whose edit the engine applied and proved."""

    edited: EditResult
    summary: str


@dataclass(frozen=True)
class _Rejected:
    """No attempt gave a usable edit; `error` is the last refusal, for the model and people."""

    error: Exception


_AttemptOutcome = _Applied | _Rejected


class _Attempts:
    """Accumulates tokens and cost over the attempts of one file, and keeps the last answer
    so an edit that does not apply can be shown to the model beside its error."""

    def __init__(self) -> None:
        self.count = 0
        self.tokens = 0
        self.cost: Decimal | None = Decimal(0)
        self.answer: str | None = None

    def add(self, result: LlmResult[BaseModel]) -> None:
        self.tokens += result.prompt_tokens + result.completion_tokens
        self.cost = None if self.cost is None or result.cost is None else self.cost + result.cost
        self.answer = json.dumps(result.data, ensure_ascii=False)


def _propose(settings: Settings, llm: LlmClient, target: Target, original: bytes | None,
             spec: str, default_encoding: str | None, feedback: list[Turn],
             attempts: _Attempts) -> _Applied:
    if original is None:
        created = llm.complete(Kind.NEW_FILE, new_file_prompt(target, spec, feedback))
        attempts.add(created)
        return _Applied(create_file(created.reply.content, path=target.path,
                                    encoding=target.encoding or default_encoding or "utf-8"),
                        "new file")
    result = llm.complete(Kind.FILE_EDITS, edit_prompt(
        target, original, spec, default_encoding, settings.prompt_token_budget, feedback))
    attempts.add(result)
    edits = [Edit(pair.search, pair.replace) for pair in result.reply.edits]
    edited = apply_edits(original, edits, path=target.path,
                         configured_encoding=target.encoding, default_encoding=default_encoding,
                         max_bytes=target.max_bytes)
    return _Applied(edited, result.reply.summary)


def _text_of(data: bytes | None, label: str | None, default_encoding: str | None) -> str | None:
    if data is None:
        return None
    configured = EncodingLabel.parse(label).reread_as if label else None
    return decide_encoding(data, configured=configured, default_encoding=default_encoding).text


def _attempt(settings: Settings, llm: LlmClient, target: Target, original: bytes | None,
             spec: str, default_encoding: str | None,
             attempts: _Attempts) -> _AttemptOutcome:
    """Up to EDIT_ATTEMPTS answers, each failure fed back with the answer that met it; the
    edit, or the last error."""
    feedback: list[Turn] = []
    error: Exception = EditError("no attempt made")
    while attempts.count < settings.edit_attempts:
        attempts.count += 1
        attempts.answer = None
        try:
            return _propose(settings, llm, target, original, spec, default_encoding, feedback,
                            attempts)
        except LlmOutputError as exc:  # an answer the model can mend: before IntegrationError
            error = exc
            feedback.append(Turn(exc.answer, exc.feedback))
        except (FileRefusedError, IntegrationError) as exc:
            return _Rejected(exc)
        except EditError as exc:  # raised only once the model has answered
            error = exc
            feedback.append(Turn(attempts.answer, str(exc)))
        task_logger().warning("%s: attempt %d failed: %s", target.path, attempts.count,
                              str(error)[:300])
    return _Rejected(error)


@task(retries=2, retry_delay_seconds=BACKOFF, retry_jitter_factor=JITTER,
      retry_condition_fn=database_hiccup, task_run_name="edit {target.path}")
def edit_file(history_id: int, target: Target, original: bytes | None, spec: str,
              default_encoding: str | None) -> FileOutcome | State:
    started = time.monotonic()
    run = run_context(history_id)
    recorder = run.recorder()
    action: Literal["created", "modified"] = "created" if original is None else "modified"
    attempts = _Attempts()
    if original is not None and len(original) > target.max_bytes:
        result: _AttemptOutcome = _Rejected(FileTooLargeError(
            f"{target.path} is {len(original)} bytes, over its max_bytes {target.max_bytes}"))
    else:
        with file_slot(history_id, run.settings.max_file_concurrency), llm_slot(run.settings):
            result = _attempt(run.settings, run.llm(recorder), target, original, spec,
                              default_encoding, attempts)
    if isinstance(result, _Applied):
        return _applied(run, target, original, result.edited, result.summary, action, attempts,
                        default_encoding, recorder.failures, started)
    error = str(result.error)
    record_file(run.engine, history_id=history_id, task_run_id=current_task_run_id(),
                path=target.path, action=action, outcome="failed", error_message=error,
                original_content=_text_of(original, target.encoding, default_encoding)
                if original is not None and len(original) <= target.max_bytes else None)
    reason = for_people(result.error, attempts.count)
    failed = FileOutcome(path=target.path, status="failed", action=action, error=error,
                         reason=reason, attempts=attempts.count, tokens=attempts.tokens,
                         cost=attempts.cost, duration_seconds=time.monotonic() - started,
                         recording_failures=tuple(recorder.failures))
    return Failed(message=f"{target.path}: {reason}. {error[:400]}", data=failed)  # red


def _applied(run: RunContext, target: Target, original: bytes | None, edited: EditResult,
             summary: str, action: str, attempts: _Attempts, default_encoding: str | None,
             recording_failures: list[str], started: float) -> FileOutcome:
    record_file(
        run.engine, history_id=run.history_id, task_run_id=current_task_run_id(), path=target.path,
        action=action, outcome="applied", diff_text=edited.diff, diff_count=edited.edit_count,
        hunk_count=edited.hunk_count, original_encoding=edited.original_encoding,
        modified_encoding=edited.final_encoding, eol_style=edited.eol.value,
        original_content=_text_of(original, edited.original_encoding, default_encoding),
        modified_content=_text_of(edited.data, edited.final_encoding, default_encoding),
        summary=summary)
    return FileOutcome(
        path=target.path, status="applied", action="created" if original is None else "modified",
        data=edited.data, summary=summary, edit_count=edited.edit_count,
        hunk_count=edited.hunk_count, original_encoding=edited.original_encoding,
        final_encoding=edited.final_encoding, eol=edited.eol.value, attempts=attempts.count,
        diff_excerpt=edited.diff[:DIFF_EXCERPT_CHARS],
        tokens=attempts.tokens, cost=attempts.cost, duration_seconds=time.monotonic() - started,
        recording_failures=tuple(recording_failures))
