"""The Jira feedback client against the Jira stand-in: the comment in ADF (Cloud, v3) and
wiki text (Data Center, v2), edited in place, transitions by id, every attempt recorded and
Jira's refusals mapped to the product's errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from base import redaction
from base.errors import NotFound, PermanentError, TransientError
from base.recording import ApiCall
from integrations.jira_comments import JiraComments
from integrations.jira_http import JiraHttp
from integrations.jira_report import FileLine, RunReport, as_wiki, comment_body
from integrations.jira_site import JiraCloud, JiraDataCenter
from standins.faults import Reset, Status
from standins.jira import JiraStandin

EMAIL, TOKEN, PAT = "agent@example.com", "jira-token-123", "dc-pat-456"
DONE = RunReport("partial", "http://prefect/runs/flow-run/1", pr_url="http://bb/pr/7",
                 files=(FileLine("a.py", True, "added TI64"),
                        FileLine("b.cpp", False, "the change did not match")),
                 cost="$0.0123", notes=("the transition \"Ship\" is not available",))


class Calls:
    def __init__(self) -> None:
        self.calls: list[ApiCall] = []

    def record_api_call(self, call: ApiCall) -> None:
        self.calls.append(call)


@pytest.fixture
def cloud() -> Iterator[tuple[JiraStandin, JiraComments, Calls]]:
    with JiraStandin(EMAIL, TOKEN) as server:
        server.add_issue({"key": "MAT-1"})
        calls = Calls()
        http = JiraHttp(JiraCloud(server.base_url, EMAIL, TOKEN), calls)
        yield server, JiraComments(http), calls


def test_a_cloud_comment_is_adf_added_then_edited_in_place(
    cloud: tuple[JiraStandin, JiraComments, Calls]
) -> None:
    server, client, calls = cloud
    cid = client.add_comment("MAT-1", comment_body(RunReport("working", None), "3"))
    client.edit_comment("MAT-1", cid, comment_body(DONE, "3"))
    [stored] = server.comments("MAT-1")
    assert stored["id"] == cid and stored["body"]["type"] == "doc"
    [text] = server.comment_texts("MAT-1")
    assert "Pull request: http://bb/pr/7" in text and "- a.py: changed - added TI64" in text
    assert "b.cpp: not changed - the change did not match" in text and "$0.0123" in text
    assert [(c.method, c.endpoint, c.status_code) for c in calls.calls] == [
        ("POST", "/rest/api/3/issue/{issueIdOrKey}/comment", 201),
        ("PUT", "/rest/api/3/issue/{issueIdOrKey}/comment/{id}", 200)]


def test_data_center_gets_wiki_text_on_v2() -> None:
    with JiraStandin(personal_access_token=PAT) as server:
        server.add_issue({"key": "OPS-1"})
        client = JiraComments(JiraHttp(JiraDataCenter(server.base_url, PAT), Calls()))
        client.add_comment("OPS-1", comment_body(DONE, "2"))
        [text] = server.comment_texts("OPS-1")
    assert "Pull request: [http://bb/pr/7|http://bb/pr/7]" in text and "* a.py: changed" in text


def test_wiki_text_escapes_markup_and_secrets_never_leave() -> None:
    redaction.install(["sk-secret-value-1"])
    report = RunReport("failed", None, reason="{code} [x|y] token sk-secret-value-1",
                       advice="retry")
    wiki = as_wiki(report)
    assert "\\{code\\} \\[x\\|y\\]" in wiki and "sk-secret-value-1" not in wiki
    assert "sk-secret-value-1" not in str(comment_body(report, "3"))


def test_transitions_are_listed_and_one_is_done_by_id(
    cloud: tuple[JiraStandin, JiraComments, Calls]
) -> None:
    server, client, _ = cloud
    review = next(t for t in client.transitions("MAT-1") if t.name == "In Review")
    client.transition("MAT-1", review.id)
    assert server.status_of("MAT-1") == "In Review"
    with pytest.raises(PermanentError, match="not valid"):
        client.transition("MAT-1", "999")


def test_jira_failures_are_mapped_and_every_attempt_recorded(
    cloud: tuple[JiraStandin, JiraComments, Calls]
) -> None:
    server, client, calls = cloud
    with pytest.raises(NotFound):
        client.edit_comment("MAT-1", "424242", comment_body(DONE, "3"))
    server.faults.add("GET /transitions", Status(503), times=2)
    with pytest.raises(TransientError, match="503"):
        client.transitions("MAT-1")
    server.faults.add("POST /comment", Reset())
    with pytest.raises(TransientError):
        client.add_comment("MAT-1", comment_body(DONE, "3"))
    assert [(c.method, c.attempt, c.status_code) for c in calls.calls] == [
        ("PUT", 1, 404), ("GET", 1, 503), ("GET", 2, 503), ("POST", 1, None)]
    assert calls.calls[0].error and "424242" in calls.calls[0].error
    assert server.comments("MAT-1") == []  # a POST is never sent twice
