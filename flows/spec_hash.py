"""What makes two runs of an issue the same work: same hash, same PR (`already_completed`)."""

from __future__ import annotations

import hashlib
import json

from base.targets import TargetsConfig
from integrations.jira import Issue


def spec_hash(issue: Issue, targets: TargetsConfig, model: str) -> str:
    """Identifies the issue content that matters: same hash, same PR. Clarifications count
    only when there are some, so an issue without comments hashes as before (and a webhook
    body, which has no comments, as the fetched issue with none)."""
    material: dict[str, object] = {"summary": issue.summary, "description": issue.description,
                                   "targets": targets.digest, "model": model}
    if issue.clarifications:
        material["clarifications"] = list(issue.clarifications)
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
