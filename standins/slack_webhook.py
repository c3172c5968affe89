"""A Slack incoming-webhook stand-in: what the cost alert is posted to.

Rules from Slack's document "Sending messages using incoming webhooks"
(api.slack.com/messaging/webhooks): a POST of JSON whose `text` (or `blocks`) is the message
answers 200 with the plain-text body `ok`; errors are told by the status and a plain-text
code. A JSON body without text answers 400 `no_text` (as gitlab-org/gitlab#332611 quotes it),
a body that is not JSON 400 `invalid_payload`, and a URL that is no webhook 404 `no_service`.
The codes of the other statuses (served as faults) are those of Slack's changelog "Improving
error conditions for Incoming Webhooks" (api.slack.com/changelog, 2016-05-17), which also
tells clients to read 200 as success and any other status as failure.
"""

from __future__ import annotations

import json
from typing import Any

from standins.messages import RecordedRequest, Reply
from standins.server import StandinServer

# the changelog's code for each status; a status it does not name gets the 500 one
FAULT_CODES = {400: "invalid_payload", 403: "action_prohibited", 404: "channel_not_found",
               410: "channel_is_archived", 500: "rollup_error"}


def _text(status: int, code: str) -> Reply:
    return Reply(status, code.encode(), content_type="text/plain")


class SlackWebhookStandin(StandinServer):
    """Accepts messages at `/services/<team>/<bot>/<secret>`; `messages` holds their texts."""

    def __init__(self, *, path: str = "/services/T000/B000/secretpart", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path = path
        self.messages: list[str] = []

    @property
    def url(self) -> str:
        return self.base_url + self.path

    def error_reply(self, status: int, message: str) -> Reply:
        return _text(status, FAULT_CODES.get(status, FAULT_CODES[500]))

    def handle(self, request: RecordedRequest) -> Reply:
        if request.method != "POST" or request.path != self.path:
            return _text(404, "no_service")
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            return _text(400, "invalid_payload")
        if not isinstance(body, dict):
            return _text(400, "invalid_payload")
        text = body.get("text")
        if not (isinstance(text, str) and text.strip()) and not body.get("blocks"):
            return _text(400, "no_text")
        self.messages.append(text if isinstance(text, str) else json.dumps(body["blocks"]))
        return _text(200, "ok")
