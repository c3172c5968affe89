"""What makes two runs of an issue the same work: same hash, same PR (`already_completed`)."""

from __future__ import annotations

import hashlib
import json

from base.targets import TargetsConfig
from integrations.jira import Issue


def spec_hash(issue: Issue, targets: TargetsConfig, model: str) -> str:
    """Identifies the issue content that matters: same hash, same PR."""
    material = {"summary": issue.summary, "description": issue.description,
                "targets": targets.digest, "model": model}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()
