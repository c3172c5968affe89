"""POST /webhooks/jira: verify, filter, dedupe, and queue the issue for the process-issue
deployment (the hand-off loop starts the run). Every request is recorded in
`webhook_delivery`; the raw body is never logged."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from base.errors import IntegrationError, InvalidResponse
from base.settings import Settings
from db.webhook_deliveries import RunRequest
from deployments.http.deps import EngineSourceDep, HandoffLoopDep, SettingsDep
from deployments.http.handoff import DEPLOYMENT
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
from deployments.http.webhook_checks import (
    Credential,
    automation_body,
    credential,
    ignored_event,
    ignored_issue,
)
from deployments.http.webhook_events import (
    EventFacts,
    event_facts,
    ignored_trigger,
    own_event,
    run_parameters,
)
from integrations.jira import Issue, parse_issue
from integrations.jira_identity import agent_ids

router = APIRouter(tags=["webhook"])
DELIVERY_HEADER = "x-atlassian-webhook-identifier"
MAX_DELIVERY_ID = 255  # webhook_delivery.delivery_id
MAX_EVENT_TYPE = 100  # webhook_delivery.event_type
INLINE_READ_BYTES = 16_384  # read on the event loop: cheaper than the trip to a thread


def _event_type(payload: dict[str, Any], who: Credential) -> str | None:
    """`webhookEvent`, or the Automation format of a body that has none."""
    event = payload.get("webhookEvent")
    if event is not None and not isinstance(event, str):
        raise Refusal(422, "rejected", "webhookEvent: not a string")
    if event is not None and len(event) > MAX_EVENT_TYPE:
        raise Refusal(422, "rejected", f"webhookEvent: over {MAX_EVENT_TYPE} characters")
    return event or automation_body(payload, who)


def _delivery_id(request: Request) -> str | None:
    delivery_id = request.headers.get(DELIVERY_HEADER)
    if delivery_id is not None and not 0 < len(delivery_id) <= MAX_DELIVERY_ID:
        raise Refusal(400, "rejected",
                       f"{DELIVERY_HEADER}: empty or over {MAX_DELIVERY_ID} characters")
    return delivery_id


_REFUSALS: dict[int | str, dict[str, Any]] = {
    code: {"model": WebhookAnswer, "description": meaning} for code, meaning in {
    202: ACCEPTED,
    200: "duplicate: a delivery id seen before; its flow run once handed off, never a second",
    400: "not JSON, nested too deeply, bad delivery id",
    401: "missing or wrong signature or token", 408: "the body did not arrive in time",
    413: "body over WEBHOOK_MAX_BYTES", 415: "not application/json",
    422: "not shaped as Jira sends it",
    503: "nothing accepted, retry later: the database did not take the delivery, or Jira "
         "could not say who the agent is",
}.items()}
_SIGNED_JSON_BODY = {"requestBody": {"required": True, "description": (
    "A Jira admin webhook body, signed (X-Hub-Signature), or a Jira Automation \"Send web "
    "request\" body (the bare issue or {\"issue\": ...}) with the shared token header"),
    "content": {"application/json": {"schema": {"type": "object"}}}}}


@router.post("/webhooks/jira", status_code=202, response_model=WebhookAnswer,
             responses=_REFUSALS, openapi_extra=_SIGNED_JSON_BODY)
async def jira_webhook(request: Request, settings: SettingsDep, engine: EngineSourceDep,
                       loop: HandoffLoopDep) -> JSONResponse:
    """Receive a Jira issue event and queue its process-issue run, exactly once."""
    facts: dict[str, Any] = {"delivery_id": None}
    try:
        facts["delivery_id"] = _delivery_id(request)
        if not is_json(request.headers.get("content-type", "")):
            raise Refusal(415, "rejected", "content type must be application/json")
        body = await read_capped(request, settings.webhook_max_bytes,
                                  settings.webhook_read_seconds)
        facts["body_sha256"] = hashlib.sha256(body).hexdigest()
        who = credential(settings, body, request.headers)
        if who is None:
            raise Refusal(401, "rejected", "missing or wrong signature or token")
        payload = json_object(body)
        facts["event_type"] = _event_type(payload, who)
        reason = ignored_event(settings, payload, who)
        if reason:
            raise Refusal(202, "ignored", reason)
        try:  # a long description is converted in a thread, not holding the event loop
            issue, event = (_read_event(payload, facts) if len(body) <= INLINE_READ_BYTES
                            else await run_in_threadpool(_read_event, payload, facts))
        except InvalidResponse as exc:
            raise Refusal(422, "rejected", str(exc)) from None
        reason = (await _own_event(settings, event) or ignored_trigger(settings, event)
                  or ignored_issue(settings, issue, command=event.comment is not None))
        if reason:
            raise Refusal(202, "ignored", reason)
    except Refusal as refusal:
        return await refused(engine, refusal, facts, webhook="jira")
    run = RunRequest(DEPLOYMENT, run_parameters(settings, payload, issue, event),
                     tags=[issue.project] if issue.project else [],
                     idempotency_key=f"jira:{facts['delivery_id'] or facts['body_sha256']}")
    return await accept(engine, loop, run, facts, webhook="jira")


def _read_event(payload: dict[str, Any], facts: dict[str, Any]) -> tuple[Issue, EventFacts]:
    """The issue (its key recorded even when the event's other parts are misshapen) and the
    event's facts, read in one trip through the thread pool."""
    issue = parse_issue(payload)
    facts["issue_key"] = issue.key
    return issue, event_facts(payload)


async def _own_event(settings: Settings, event: EventFacts) -> str | None:
    """Why the event is the agent's own, or None. Not knowing who the agent is (Jira did
    not answer /myself) is a 503: Jira retries, rather than the agent answering itself."""
    if not event.actor_ids:
        return None
    try:
        agent = await run_in_threadpool(agent_ids, settings)
    except IntegrationError as exc:
        raise Refusal(503, "failed", f"{exc}; Jira will retry") from None
    return own_event(event, agent)
