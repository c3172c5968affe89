"""What both webhooks (Jira, Bitbucket) do with a request before reading it as an event: the
content type, a body read within a size and time limit, JSON that PostgreSQL can store, and
the answer's shape. A `Refusal` carries the HTTP status and the recorded outcome."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from base.storable import UnstorableInput, check_json
from db import webhook_deliveries as deliveries
from deployments.http.deps import EngineSource

logger = logging.getLogger(__name__)
ACCEPTED = ("queued: the delivery is stored and its flow run starts shortly (the hand-off "
            "loop creates it; a redelivery answers with it); or ignored, with the reason")


class WebhookAnswer(BaseModel):
    """The webhook's answer. A 202 "queued" means the delivery is committed to the outbox:
    it is not lost, and it becomes one flow run even if Prefect is down now, so the answer
    cannot carry the run; the redelivery of its id (200 "duplicate") does, once known."""

    status: str = Field(description="queued (202), duplicate (200), ignored (202), rejected "
                                    "(4xx), unavailable or failed (503: retry)")
    reason: str | None = None
    flow_run_id: str | None = Field(
        default=None, description="the flow run, when known: on a duplicate once handed off")
    flow_run_url: str | None = None
    delivery_id: str | None = Field(
        default=None, description="X-Atlassian-Webhook-Identifier or X-Request-UUID as sent")


class Refusal(Exception):
    """A request answered with `status` and recorded with `outcome` and `reason`."""

    def __init__(self, status: int, outcome: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.outcome, self.reason = status, outcome, reason


def is_json(content_type: str) -> bool:
    """`application/json` or a `+json` type such as `application/vnd.api+json` (RFC 6839)."""
    media = content_type.split(";", 1)[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


async def read_capped(request: Request, limit: int, seconds: float) -> bytes:
    """The whole body within `seconds` (a half-sent body is not waited for forever)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refusal(413, "rejected", f"body of {declared} bytes is over {limit}")
    chunks, size = [], 0
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise Refusal(413, "rejected", f"body is over {limit} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise Refusal(408, "rejected", f"body not received within {seconds:g} s") from None
    return b"".join(chunks)


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object whose every text PostgreSQL can store."""
    try:
        payload = json.loads(body)
    except RecursionError:
        raise Refusal(400, "rejected", "body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise Refusal(400, "rejected", "body is not JSON") from None
    if not isinstance(payload, dict):
        raise Refusal(400, "rejected", "body is not a JSON object")
    try:
        check_json(payload)
    except UnstorableInput as exc:
        raise Refusal(422, "rejected", str(exc)) from None
    return payload


def answer(http_status: int, *, status: str, **fields: str | None) -> JSONResponse:
    """The webhook's answer: its outcome, and what Jira or Bitbucket may show about it."""
    return JSONResponse(WebhookAnswer(status=status, **fields).model_dump(exclude_none=True),
                        status_code=http_status)


async def refused(engine: EngineSource, refusal: Refusal, facts: dict[str, Any], *,
                  webhook: str) -> JSONResponse:
    """Record a refused or ignored request. Its delivery id goes into the reason, not the
    unique column, so the sender's retry of the same delivery is judged afresh."""
    delivery_id = facts["delivery_id"]
    reason = f"delivery {delivery_id}: {refusal.reason}" if delivery_id else refusal.reason
    values = {k: v for k, v in facts.items() if k != "delivery_id"}
    await run_in_threadpool(lambda: deliveries.record(
        engine(), outcome=refusal.outcome, http_status=refusal.status, reason=reason, **values))
    logger.info("%s webhook %s %s: %s (%s)", webhook, delivery_id, facts.get("issue_key"),
                refusal.outcome, refusal.status)
    return answer(refusal.status, status=refusal.outcome, reason=refusal.reason,
                  delivery_id=delivery_id)
