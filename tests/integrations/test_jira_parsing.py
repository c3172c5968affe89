"""Jira payloads (webhook and REST, wiki and ADF descriptions) become `Issue` values."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.errors import InvalidResponse
from integrations.jira import parse_issue

ADF_DESCRIPTION = {
    "type": "doc", "version": 1, "content": [
        {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "요청"}]},
        {"type": "paragraph", "content": [
            {"type": "text", "text": "Add material "},
            {"type": "text", "text": "Ti-6Al-4V", "marks": [{"type": "code"}]},
            {"type": "hardBreak"}, {"type": "text", "text": "밀도 4.43"}]},
        {"type": "bulletList", "content": [
            {"type": "listItem", "content": [{"type": "paragraph", "content": [
                {"type": "text", "text": "density"}]}]},
            {"type": "listItem", "content": [{"type": "paragraph", "content": [
                {"type": "text", "text": "yield strength"}]}]}]},
        {"type": "codeBlock", "attrs": {"language": "cpp"},
         "content": [{"type": "text", "text": "{\"TI64\", 4.43}"}]},
        {"type": "mysteryNode", "content": [{"type": "text", "text": "kept anyway"}]},
    ]}


def webhook(fields: dict[str, Any], key: str = "MAT-42") -> dict[str, Any]:
    return {"webhookEvent": "jira:issue_created", "issue": {"key": key, "fields": fields}}


class TestParseIssue:
    def test_a_v2_webhook_with_a_wiki_description_is_parsed(self) -> None:
        issue = parse_issue(webhook({
            "summary": " Add titanium ", "description": "h2. Request\nAdd *Ti*",
            "labels": ["sdb"], "issuetype": {"name": "Task"}, "project": {"key": "MAT"}}))
        assert (issue.key, issue.summary, issue.description) == (
            "MAT-42", "Add titanium", "h2. Request\nAdd *Ti*")
        assert (issue.labels, issue.issue_type, issue.project) == (("sdb",), "Task", "MAT")

    def test_a_v3_rest_issue_with_an_adf_description_becomes_readable_text(self) -> None:
        issue = parse_issue({"key": "MAT-7", "fields": {"summary": "Ti",
                                                        "description": ADF_DESCRIPTION}})
        assert issue.description == (
            "## 요청\n\nAdd material `Ti-6Al-4V`\n밀도 4.43\n\n- density\n- yield strength"
            "\n\n```cpp\n{\"TI64\", 4.43}\n```\n\nkept anyway")

    def test_the_raw_payload_is_kept_for_the_history(self) -> None:
        payload = webhook({"summary": "x"})
        assert parse_issue(payload).raw is payload

    def test_missing_fields_give_empty_text_not_errors(self) -> None:
        issue = parse_issue({"issue": {"key": "A-1"}})
        assert (issue.summary, issue.description, issue.project) == ("", "", "A")

    @pytest.mark.parametrize("payload", [
        [], "text", {"issue": "x"}, {"issue": {"fields": {}}}, {"key": "not a key"},
        {"key": "A-0"}, {"key": "../../etc-1"},
    ])
    def test_a_payload_without_a_valid_key_is_refused(self, payload: Any) -> None:
        with pytest.raises(InvalidResponse):
            parse_issue(payload)
