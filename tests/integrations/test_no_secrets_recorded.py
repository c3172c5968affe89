"""A faulty session against every stand-in leaves no credential in history, errors or logs."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from pathlib import Path

import openai
import pytest
from sqlalchemy import text

from base.errors import IntegrationError
from base.pricing import PriceTable
from db.recorder import HistoryRecorder
from integrations.bitbucket_http import BearerAuth
from integrations.jira import fetch_issue
from integrations.jira_site import JiraCloud, JiraDataCenter
from integrations.llm.client import LlmClient
from integrations.llm.schemas import Kind
from standins.bitbucket import BitbucketEmulator
from standins.faults import Refusal, Reset, Status
from standins.jira import JiraStandin
from standins.openai_server import OpenAIStandin, openai_error
from tests.integrations.bitbucket_support import client_for

LLM_KEY, WRONG_LLM_KEY = "sk-proj-SECRET123abc", "sk-proj-WRONG321cba"
BB_TOKEN, WRONG_BB_TOKEN = "bbat-SECRET456def", "bbat-WRONG654fed"
BB_USER, BB_API_TOKEN = "bot@example.com", "ATATT-SECRET000ghi"
JIRA_TOKEN = "jira-SECRET789"
JIRA_PAT, WRONG_JIRA_PAT = "jira-dc-SECRET246", "jira-dc-WRONG642"
SECRETS = (LLM_KEY, WRONG_LLM_KEY, BB_TOKEN, WRONG_BB_TOKEN, BB_API_TOKEN, JIRA_TOKEN,
           JIRA_PAT, WRONG_JIRA_PAT)
MESSAGES = [{"role": "user", "content": "Write the spec for MAT-1"}]


def attempt(errors: list[str], call: Callable[[], object]) -> None:
    """Run a call that may fail; keep everything its failure would show in a log."""
    try:
        call()
    except IntegrationError as exc:
        errors.append("".join(traceback.format_exception(exc)))


class TestNoSecretsRecorded:
    def test_a_faulty_session_records_and_logs_no_token(
        self, tmp_path: Path, recorder: HistoryRecorder, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        errors: list[str] = []
        repo = BitbucketEmulator.create_repository(tmp_path / "repo.git", {"a.txt": b"a\n"})
        with (OpenAIStandin(api_key=LLM_KEY) as llm,
              BitbucketEmulator(repo, "acme", "shop", access_token=BB_TOKEN, username=BB_USER,
                                api_token=BB_API_TOKEN) as bitbucket,
              JiraStandin("bot@example.com", JIRA_TOKEN) as jira,
              JiraStandin(personal_access_token=JIRA_PAT) as data_center):
            llm.script("issue_spec", {"spec_markdown": "spec"})

            def llm_client(key: str) -> LlmClient:
                sdk = openai.OpenAI(base_url=llm.base_url, api_key=key, max_retries=1,
                                    timeout=2)
                return LlmClient(sdk=sdk, model="gpt-4o", prices=PriceTable.bundled(),
                                 recorder=recorder)

            good, bad = llm_client(LLM_KEY), llm_client(WRONG_LLM_KEY)
            attempt(errors, lambda: bad.complete(Kind.ISSUE_SPEC, MESSAGES))
            # a gateway that echoes the whole key back in its error text
            echo = openai_error(f"Incorrect API key provided: {LLM_KEY}.", code="invalid_api_key")
            llm.faults.add("*", Status(401, body=echo))
            attempt(errors, lambda: good.complete(Kind.ISSUE_SPEC, MESSAGES))
            llm.faults.add("*", Status(500, retry_after=0.01), times=2)
            attempt(errors, lambda: good.complete(Kind.ISSUE_SPEC, MESSAGES))
            llm.faults.add("*", Refusal("I cannot help with that."))
            attempt(errors, lambda: good.complete(Kind.ISSUE_SPEC, MESSAGES))
            llm.faults.add("*", Reset(), times=2)
            attempt(errors, lambda: good.complete(Kind.ISSUE_SPEC, MESSAGES))
            good.complete(Kind.ISSUE_SPEC, MESSAGES)

            wrong = client_for(bitbucket, recorder, auth=BearerAuth(WRONG_BB_TOKEN))
            wrong_basic = client_for(bitbucket, recorder, auth=(BB_USER, WRONG_BB_TOKEN))
            right = client_for(bitbucket, recorder, auth=BearerAuth(BB_TOKEN))
            basic = client_for(bitbucket, recorder, auth=(BB_USER, BB_API_TOKEN))
            attempt(errors, wrong.default_branch)
            attempt(errors, wrong_basic.default_branch)
            bitbucket.faults.add("*", Status(429))  # not retried: RateLimited
            attempt(errors, right.default_branch)
            bitbucket.faults.add("*", Status(503), times=3)
            attempt(errors, lambda: basic.read_file("main", "a.txt"))
            bitbucket.faults.add("*", Reset(), times=1)
            main = basic.default_branch()
            basic.commit_files(branch="main", parent=main.commit, files={"a.txt": b"b\n"},
                               message="m", author="A <a@example.com>")

            for token, fault in (("wrong", None), (JIRA_TOKEN, Status(429)),
                                 (JIRA_TOKEN, Status(503)), (JIRA_TOKEN, None)):
                if fault is not None:
                    jira.faults.add("*", fault)
                attempt(errors, lambda token=token: fetch_issue(  # type: ignore[misc]
                    JiraCloud(jira.base_url, "bot@example.com", token), "MAT-404", timeout=2))
            for token, fault in ((WRONG_JIRA_PAT, None), (JIRA_PAT, Status(503))):
                if fault is not None:
                    data_center.faults.add("*", fault)
                attempt(errors, lambda token=token: fetch_issue(  # type: ignore[misc]
                    JiraDataCenter(data_center.base_url, token), "OPS-404", timeout=2))

        with recorder.engine.connect() as conn:
            rows = [row for table in ("llm_call_history", "bitbucket_api_history")
                    for row in conn.execute(text(
                        f"SELECT t::text FROM {table} t WHERE history_id = :id"),  # noqa: S608
                        {"id": recorder.history_id}).scalars()]
        # the stand-ins' own log lines describe the faults they serve, and are not the product's
        logs = [f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records
                if not r.name.startswith("standins")]

        names = {line.split(" ", 1)[0] for line in logs}
        assert {"openai._base_client", "urllib3.connectionpool"} <= names  # DEBUG was captured
        assert len(errors) == 15 and len(rows) == 17 and recorder.failures == []
        assert any("401" in e for e in errors) and any("429" in r for r in rows)
        for secret in SECRETS:
            for what, texts in (("history row", rows), ("error", errors), ("log", logs)):
                leaks = [t for t in texts if secret in t]
                assert not leaks, f"{secret} in a {what}: {leaks[0][:400]}"
