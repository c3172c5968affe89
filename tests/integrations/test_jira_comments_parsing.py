"""Comments in `fields.comment` (REST v2 wiki, v3 ADF) become the issue's clarifications: the
people's comments, oldest first, bounded, in the spec prompt and the spec hash."""

from __future__ import annotations

from typing import Any

import pytest

from base.errors import InvalidResponse
from base.targets import load_targets
from cli.demo import EXAMPLES
from flows.spec_hash import spec_hash
from integrations.jira import (
    MAX_CLARIFICATION_CHARS,
    MAX_CLARIFICATIONS,
    Issue,
    clarified,
    command_of,
    parse_comment,
    parse_issue,
)
from integrations.llm.prompts import spec_messages

AGENT = frozenset({"agent-account"})


def comment(text: Any, author: str = "person-1", n: int = 1) -> dict[str, Any]:
    return {"id": str(10000 + n), "author": {"accountId": author, "displayName": author},
            "body": text, "created": f"2026-01-0{n % 9 + 1}T10:00:00.000+0000"}


def rest_issue(*comments: dict[str, Any]) -> dict[str, Any]:
    """A REST issue as GET /rest/api/3/issue returns it, its comments in `fields.comment`."""
    return {"key": "MAT-5", "fields": {
        "summary": "Add TI64", "description": "Add the alloy", "project": {"key": "MAT"},
        "comment": {"comments": list(comments), "maxResults": len(comments),
                    "total": len(comments), "startAt": 0}}}


def webhook_body() -> dict[str, Any]:
    """The same issue as a `jira:issue_updated` body: Jira sends it without comments."""
    issue = rest_issue()
    del issue["fields"]["comment"]
    return {"webhookEvent": "jira:issue_updated", "issue": issue}


def clarify(payload: dict[str, Any]) -> Issue:
    return clarified(parse_issue(payload), AGENT, "/sdb")


def digest(issue: Issue) -> str:
    return spec_hash(issue, load_targets(EXAMPLES / "targets.yaml"), "model-1")


class TestParsing:
    def test_wiki_and_adf_bodies_become_text_with_their_authors(self) -> None:
        adf = {"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "density is 4.43"}]}]}
        issue = parse_issue(rest_issue(comment("use *TI64*", n=1), comment(adf, "p2", n=2)))
        assert issue.comments_read is True
        assert [(c.text, c.author_ids) for c in issue.comments] == [
            ("use **TI64**", frozenset({"person-1"})), ("density is 4.43", frozenset({"p2"}))]

    def test_a_body_without_the_comment_field_says_so(self) -> None:
        issue = parse_issue(webhook_body())
        assert (issue.comments, issue.comments_read) == ((), False)

    def test_data_center_authors_are_named_by_name_and_key(self) -> None:
        parsed = parse_comment({"id": "1", "author": {"name": "bot", "key": "JIRAUSER9"},
                                "body": "hi"})
        assert parsed.author_ids == {"bot", "JIRAUSER9"}

    @pytest.mark.parametrize("bad", [
        {"comment": {"comments": "many"}},
        {"comment": {"comments": [{"body": 42}]}},
        {"comment": {"comments": [{"body": "x", "author": {"accountId": ["a"]}}]}},
        {"comment": {"comments": [{"body": "x\x00"}]}},
    ], ids=["comments not a list", "body a number", "account id a list", "NUL in a body"])
    def test_misshapen_comments_are_refused_naming_the_field(self, bad: dict[str, Any]) -> None:
        with pytest.raises(InvalidResponse, match="comment"):
            parse_issue({"key": "MAT-5", "fields": bad})


class TestClarifications:
    def test_peoples_comments_oldest_first_without_the_agents_and_commands(self) -> None:
        issue = clarify(rest_issue(
            comment("Use TI64 as the code", n=1), comment("PR opened", "agent-account", n=2),
            comment("/sdb retry", n=3), comment("/SDB  Retry please", n=4),
            comment("Density 4.43, not 4.5", "p2", n=5), comment("   ", n=6)))
        assert issue.clarifications == ("Use TI64 as the code", "Density 4.43, not 4.5")

    def test_a_long_thread_is_bounded_to_the_newest_and_each_comment_cut(self) -> None:
        many = [comment(f"note {n}", n=n) for n in range(MAX_CLARIFICATIONS + 5)]
        huge = comment("x" * (MAX_CLARIFICATION_CHARS * 3), n=99)
        issue = clarify(rest_issue(*many, huge))
        assert len(issue.clarifications) == MAX_CLARIFICATIONS
        assert issue.clarifications[0] == "note 6"
        assert len(issue.clarifications[-1]) < MAX_CLARIFICATION_CHARS + 10

    def test_commands_are_the_prefix_then_a_word_on_the_first_line(self) -> None:
        assert command_of("/sdb retry\nthanks", "/sdb") == "retry"
        assert command_of("  /sdb", "/sdb") == ""
        assert command_of("please /sdb retry", "/sdb") is None
        assert command_of("/sdbretry", "/sdb") is None


class TestPromptAndHash:
    def test_the_prompt_gives_the_comments_after_the_description(self) -> None:
        issue = clarify(rest_issue(comment("first", n=1), comment("second", "p2", n=2)))
        text = spec_messages(issue_key=issue.key, summary=issue.summary,
                             description=issue.description,
                             clarifications=issue.clarifications)[1]["content"]
        assert text.index("Add the alloy") < text.index("first") < text.index("second")
        plain = spec_messages(issue_key="MAT-5", summary="Add TI64", description="Add the alloy")
        assert plain[1]["content"] == "Issue MAT-5: Add TI64\n\n<issue>\nAdd the alloy\n</issue>"

    def test_no_comments_hash_alike_whether_the_body_had_the_field_or_not(self) -> None:
        fetched = clarify(rest_issue(comment("/sdb retry"), comment("done", "agent-account")))
        assert digest(parse_issue(webhook_body())) == digest(clarify(rest_issue())) == digest(
            fetched)

    def test_a_clarifying_comment_changes_the_hash(self) -> None:
        before = digest(clarify(rest_issue()))
        after = digest(clarify(rest_issue(comment("Code is TI64, not TI6"))))
        assert before != after
