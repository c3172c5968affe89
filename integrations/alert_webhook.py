"""POST a cost alert to a Slack-compatible incoming webhook.

Slack's document "Sending messages using incoming webhooks" (api.slack.com/messaging/webhooks):
a JSON body with `text` is the message. Slack's changelog "Improving error conditions for
Incoming Webhooks" (2016-05-17) advises reading 200 as success and any other status as a
failure, whatever the body says; other Slack-compatible services answer 204, so any 2xx is
success here. A redirect is a failure too: the message goes to the configured URL or nowhere.
The URL carries the webhook's secret, so no error here contains it: only the status or the
kind of failure.
"""

from __future__ import annotations

import requests

from base.errors import PermanentError, TransientError

CONNECT_SECONDS, READ_SECONDS = 5.0, 10.0


def post_alert(url: str, text: str) -> None:
    """Deliver the message, or raise an IntegrationError without the URL in it."""
    try:
        answer = requests.post(url, json={"text": text}, allow_redirects=False,
                               timeout=(CONNECT_SECONDS, READ_SECONDS))
    except requests.Timeout:
        raise TransientError("alert webhook timed out") from None
    except requests.RequestException as exc:
        raise TransientError(f"alert webhook unreachable: {type(exc).__name__}") from None
    if not 200 <= answer.status_code < 300:
        kind = TransientError if answer.status_code == 429 or answer.status_code >= 500 \
            else PermanentError
        raise kind(f"alert webhook answered {answer.status_code}")
