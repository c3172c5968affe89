"""Jira payloads (webhook and REST, wiki and ADF descriptions) become `Issue` values."""

from __future__ import annotations

from typing import Any

import pytest

from base.errors import InvalidResponse
from integrations.jira import parse_issue

ADF_DESCRIPTION: dict[str, Any] = {
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


AUTOMATION_ISSUE: dict[str, Any] = {
    "self": "https://sample.jira-dev.com/rest/api/2/issue/11111", "id": 11111, "key": "SP-53",
    "changelog": {"startAt": 0, "maxResults": 0, "total": 0, "histories": None},
    "fields": {
        "statuscategorychangedate": "2022-02-18T15:20:11.662+0530",
        "issuetype": {"self": "https://sample.jira-dev.com/rest/api/2/issuetype/22222",
                      "id": 22222, "description": "A request that follows ITSM workflows.",
                      "name": "[System] Service request", "subtask": False, "fields": None,
                      "statuses": [], "namedValue": "[System] Service request"},
        "timespent": None, "customfield_10030": None,
        "customfield_10031": {"languageCode": "en", "displayName": "English"},
        "project": {"self": "https://sample.jira-dev.com/rest/api/2/project/10002", "id": 10002,
                    "key": "SP", "name": "New ITSM Project", "description": None},
        "summary": "Printer on floor 3 jams", "description": "Jams on *A4* only"}}


def webhook(fields: dict[str, Any], key: str = "MAT-42") -> dict[str, Any]:
    return {"webhookEvent": "jira:issue_created", "issue": {"key": key, "fields": fields}}


class TestParseIssue:
    def test_a_v2_webhook_s_wiki_description_becomes_the_same_text_as_adf(self) -> None:
        issue = parse_issue(webhook({
            "summary": " Add titanium ", "description": "h2. 요청\nAdd material {{Ti-6Al-4V}}",
            "labels": ["sdb"], "issuetype": {"name": "Task"}, "project": {"key": "MAT"}}))
        assert (issue.key, issue.summary, issue.description) == (
            "MAT-42", "Add titanium", "## 요청\n\nAdd material `Ti-6Al-4V`")
        assert issue.description == parse_issue({"key": "MAT-7", "fields": {"description": {
            "type": "doc", "version": 1, "content": ADF_DESCRIPTION["content"][:1] + [
                {"type": "paragraph", "content": ADF_DESCRIPTION["content"][1]["content"][:2]}]
        }}}).description
        assert (issue.labels, issue.issue_type, issue.project) == (("sdb",), "Task", "MAT")

    @pytest.mark.parametrize("wrap", [lambda i: i, lambda i: {"issue": i}],
                             ids=["Automation format", "Jira format"])
    def test_automation_send_web_request_bodies_are_parsed(self, wrap: Any) -> None:
        """Atlassian's sample bodies (support.atlassian.com/cloud-automation/docs/issue-data-
        automation-format-payload-for-send-web-request and the Jira format page): numeric
        ids, REST v2 links, a wiki description, no webhookEvent."""
        issue = parse_issue(wrap(AUTOMATION_ISSUE))
        assert (issue.key, issue.summary, issue.issue_type, issue.project) == (
            "SP-53", "Printer on floor 3 jams", "[System] Service request", "SP")
        assert issue.description == "Jams on **A4** only"

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
