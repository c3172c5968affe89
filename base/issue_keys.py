"""The shape of a Jira issue key, shared by the targets file, the webhook and the API."""

from __future__ import annotations

import re

ISSUE_KEY = re.compile(r"[A-Z][A-Z0-9_]*-[1-9][0-9]{0,9}")
MAX_ISSUE_KEY = 50  # issue_processing_history.issue_key and webhook_delivery.issue_key


def valid_issue_key(key: str) -> bool:
    """A Jira key (`MAT-42`) that fits the history columns; nothing before or after it."""
    return len(key) <= MAX_ISSUE_KEY and ISSUE_KEY.fullmatch(key) is not None
