"""POST /webhooks/jira: verify, filter, dedupe, and hand the issue to the process-issue
deployment. Every request is recorded in `webhook_delivery`; the raw body is never logged."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from base.errors import IntegrationError, InvalidResponse
from base.prefect_ui import flow_run_url
from base.settings import Settings
from db import webhook_deliveries as deliveries
from deployments.http.deps import EngineDep, HandoffDep, SettingsDep
from deployments.http.handoff import FlowRunHandoff, HandoffUnavailable
from deployments.http.webhook_body import (
    Refusal,
    WebhookAnswer,
    answer,
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
from integrations.jira import parse_issue
from integrations.jira_identity import agent_ids

logger = logging.getLogger(__name__)
router = APIRouter(tags=["webhook"])
DELIVERY_HEADER = "x-atlassian-webhook-identifier"
MAX_DELIVERY_ID = 255  # webhook_delivery.delivery_id
MAX_EVENT_TYPE = 100  # webhook_delivery.event_type


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
    200: "a redelivery: the same flow run", 400: "not JSON, nested too deeply, bad delivery id",
    401: "missing or wrong signature or token", 408: "the body did not arrive in time",
    413: "body over WEBHOOK_MAX_BYTES", 415: "not application/json",
    422: "not shaped as Jira sends it", 503: "Prefect did not take the run; retry later",
}.items()}
_SIGNED_JSON_BODY = {"requestBody": {"required": True, "description": (
    "A Jira admin webhook body, signed (X-Hub-Signature), or a Jira Automation \"Send web "
    "request\" body (the bare issue or {\"issue\": ...}) with the shared token header"),
    "content": {"application/json": {"schema": {"type": "object"}}}}}


@router.post("/webhooks/jira", status_code=202, response_model=WebhookAnswer,
             responses=_REFUSALS, openapi_extra=_SIGNED_JSON_BODY)
async def jira_webhook(request: Request, settings: SettingsDep, engine: EngineDep,
                       handoff: HandoffDep) -> JSONResponse:
    """Receive a Jira issue event and start its process-issue run exactly once."""
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
        try:  # in a thread: converting a long description must not hold the event loop
            issue = await run_in_threadpool(parse_issue, payload)
            facts["issue_key"] = issue.key
            event = await run_in_threadpool(event_facts, payload)
        except InvalidResponse as exc:
            raise Refusal(422, "rejected", str(exc)) from None
        reason = (await _own_event(settings, event) or ignored_trigger(settings, event)
                  or ignored_issue(settings, issue, command=event.comment is not None))
        if reason:
            raise Refusal(202, "ignored", reason)
    except Refusal as refusal:
        return await refused(engine, refusal, facts, webhook="jira")
    return await _hand_off(engine, handoff, run_parameters(settings, payload, issue, event),
                           issue.key, issue.project, facts)


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


async def _hand_off(engine: Any, handoff: FlowRunHandoff, parameters: dict[str, Any],
                    issue_key: str, project: str | None, facts: dict[str, Any]) -> JSONResponse:
    delivery_id = facts["delivery_id"]
    key = f"jira:{delivery_id or facts['body_sha256']}"
    row = None
    if delivery_id is not None:
        row = await run_in_threadpool(lambda: deliveries.claim(
            engine, delivery_id=delivery_id, event_type=facts["event_type"] or "",
            issue_key=issue_key, body_sha256=facts["body_sha256"]))
        if not row.first and row.outcome == "accepted" and row.flow_run_id is not None:
            await run_in_threadpool(lambda: deliveries.record(
                engine, outcome="duplicate", http_status=200, issue_key=issue_key,
                reason=f"redelivery of {delivery_id}", flow_run_id=row.flow_run_id,
                event_type=facts["event_type"], body_sha256=facts["body_sha256"]))
            return answer(200, status="duplicate", flow_run_id=str(row.flow_run_id),
                           flow_run_url=flow_run_url(row.flow_run_id), delivery_id=delivery_id)
    try:
        flow_run_id = await handoff.start(parameters, idempotency_key=key,
                                          tags=[project] if project else [])
    except Exception as exc:  # any failure to hand off is one Jira should retry, recorded
        cause = str(exc) if isinstance(exc, HandoffUnavailable) else (
            f"hand-off to Prefect failed ({type(exc).__name__})")
        reason = f"{cause}; Jira will retry"
        if row is not None:
            await run_in_threadpool(lambda: deliveries.settle(
                engine, row.id, outcome="failed", http_status=503, flow_run_id=None,
                reason=reason))
        else:
            await run_in_threadpool(lambda: deliveries.record(
                engine, outcome="failed", http_status=503, issue_key=issue_key, reason=reason,
                event_type=facts["event_type"], body_sha256=facts["body_sha256"]))
        logger.warning("webhook %s %s: %s", delivery_id, issue_key, reason)
        return answer(503, status="unavailable", reason=reason, delivery_id=delivery_id)
    if row is None:
        await run_in_threadpool(lambda: deliveries.record(
            engine, outcome="accepted", http_status=202, issue_key=issue_key, reason=None,
            flow_run_id=flow_run_id, event_type=facts["event_type"],
            body_sha256=facts["body_sha256"]))
    elif row.first or row.outcome == "failed":
        await run_in_threadpool(lambda: deliveries.settle(
            engine, row.id, outcome="accepted", http_status=202, flow_run_id=flow_run_id,
            reason=None))
    else:
        return answer(200, status="duplicate", flow_run_id=str(flow_run_id),
                       flow_run_url=flow_run_url(flow_run_id), delivery_id=delivery_id)
    logger.info("webhook %s %s: accepted as flow run %s", delivery_id, issue_key, flow_run_id)
    return answer(202, status="accepted", flow_run_id=str(flow_run_id),
                   flow_run_url=flow_run_url(flow_run_id), delivery_id=delivery_id)
