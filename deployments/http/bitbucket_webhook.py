"""POST /webhooks/bitbucket: a review comment on a PR the agent opened starts a
revise-pull-request run, queued in the same outbox as the Jira webhook's runs (the hand-off
loop starts it). Verified (X-Hub-Signature with BITBUCKET_WEBHOOK_SECRET), deduped by
X-Request-UUID, and recorded in `webhook_delivery` like the Jira webhook; the body is never
logged. What the edge can tell without a call to Bitbucket is ignored here (202): other
events, another repository, a comment that does not address the agent, the agent's own
comments, a PR the agent did not open. The run judges the rest (author, scope, branch).
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from base.errors import InvalidResponse
from base.settings import Settings
from db import issue_runs
from db.webhook_deliveries import RunRequest
from deployments.http.deps import EngineSourceDep, HandoffLoopDep, SettingsDep
from deployments.http.handoff import REVISE_DEPLOYMENT
from deployments.http.webhook_accept import accept
from deployments.http.webhook_body import (
    ACCEPTED,
    Refusal,
    WebhookAnswer,
    is_json,
    json_object,
    read_capped,
    refused,
)
from deployments.http.webhook_checks import valid_signature
from integrations.bitbucket_events import (
    ReviewComment,
    instructions_for_agent,
    parse_comment_created,
)

router = APIRouter(tags=["webhook"])
EVENT = "pullrequest:comment_created"
MAX_REQUEST_UUID = 255


def _signed(settings: Settings, body: bytes, header: str | None) -> bool:
    """Signed with the secret; unsigned only when WEBHOOK_ALLOW_UNAUTHENTICATED says so, since
    a comment spends LLM money and commits code."""
    secret = settings.bitbucket_webhook_secret
    if secret is None:
        return settings.webhook_allow_unauthenticated
    return valid_signature(secret.get_secret_value(), body, header)


def _ignored(settings: Settings, comment: ReviewComment) -> str | None:
    """Why the comment is not one for the agent, or None."""
    expected = f"{settings.bitbucket_workspace}/{settings.bitbucket_repository}"
    if settings.bitbucket_workspace and comment.repository.lower() != expected.lower():
        return f"repository {comment.repository[:100]} is not {expected}"
    if comment.author_uuid == comment.pr_author_uuid:
        return "a comment by the pull request's author (the agent's own) is not a request"
    if instructions_for_agent(comment.text, mention=settings.agent_mention,
                              prefix=settings.agent_command_prefix) is None:
        return (f"the comment does not address the agent ({settings.agent_mention} or "
                f"{settings.agent_command_prefix})")
    return None


_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": WebhookAnswer, "description": meaning} for code, meaning in {
    202: ACCEPTED,
    200: "duplicate: a request UUID seen before; its flow run once handed off, never a second",
    400: "not JSON, or no valid X-Request-UUID",
    401: "missing or wrong signature", 408: "the body did not arrive in time",
    413: "body over WEBHOOK_MAX_BYTES", 415: "not application/json",
    422: "not shaped as Bitbucket sends it",
    503: "the database did not take the delivery; nothing accepted, retry later",
}.items()}
_BODY = {"requestBody": {"required": True, "description": (
    "A Bitbucket Cloud `pullrequest:comment_created` body, signed (X-Hub-Signature)"),
    "content": {"application/json": {"schema": {"type": "object"}}}}}


@router.post("/webhooks/bitbucket", status_code=202, response_model=WebhookAnswer,
             responses=_RESPONSES, openapi_extra=_BODY)
async def bitbucket_webhook(request: Request, settings: SettingsDep, engine: EngineSourceDep,
                            loop: HandoffLoopDep) -> JSONResponse:
    """Receive a Bitbucket pull request comment and queue its revision, exactly once."""
    facts: dict[str, Any] = {"delivery_id": None}
    try:
        delivery_id = request.headers.get("x-request-uuid")
        if not delivery_id or len(delivery_id) > MAX_REQUEST_UUID:
            raise Refusal(400, "rejected", f"X-Request-UUID: missing or over "
                                            f"{MAX_REQUEST_UUID} characters")
        facts["delivery_id"] = delivery_id
        if not is_json(request.headers.get("content-type", "")):
            raise Refusal(415, "rejected", "content type must be application/json")
        body = await read_capped(request, settings.webhook_max_bytes,
                                  settings.webhook_read_seconds)
        facts["body_sha256"] = hashlib.sha256(body).hexdigest()
        if not _signed(settings, body, request.headers.get("x-hub-signature")):
            raise Refusal(401, "rejected", "missing or wrong signature"
                           if settings.bitbucket_webhook_secret else
                           "BITBUCKET_WEBHOOK_SECRET is not set: unsigned deliveries are refused")
        payload = json_object(body)
        event = request.headers.get("x-event-key", "")[:100]
        facts["event_type"] = event
        if event != EVENT:
            raise Refusal(202, "ignored", f"event {event[:60]!r} is not {EVENT}")
        try:
            comment = parse_comment_created(payload)
        except InvalidResponse as exc:
            raise Refusal(422, "rejected", str(exc)) from None
        reason = _ignored(settings, comment)
        if reason:
            raise Refusal(202, "ignored", reason)
        parent = await run_in_threadpool(
            lambda: issue_runs.run_for_pull_request(engine(), comment.pr_url))
        if parent is None:
            raise Refusal(202, "ignored", f"pull request #{comment.pr_id} was not opened by "
                                           "sdb-agent")
        facts["issue_key"] = parent.issue_key
    except Refusal as refusal:
        return await refused(engine, refusal, facts, webhook="bitbucket")
    # one flow run per comment (its idempotency key), one delivery row per request UUID
    run = RunRequest(REVISE_DEPLOYMENT, {"comment": comment.model_dump(mode="json")},
                     tags=[parent.issue_key.split("-")[0]],
                     idempotency_key=f"bitbucket-comment:{comment.pr_url}#{comment.comment_id}")
    return await accept(engine, loop, run, facts, webhook="bitbucket")
