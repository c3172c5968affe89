"""Each stand-in runs as its own process for the offline demo and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import requests

from standins.bitbucket import BitbucketEmulator

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> tuple[subprocess.Popen[str], str]:
    """Start the stand-in and return it with the base URL it logs."""
    process = subprocess.Popen(
        [sys.executable, "-m", "standins", *args],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:
        if match := re.search(r"listening on (\S+)", line):
            return process, match[1]
    raise AssertionError(f"stand-in exited with {process.wait()}")


def stop(process: subprocess.Popen[str]) -> int:
    process.terminate()
    return process.wait(timeout=10)


class TestRunningAsAProcess:
    def test_the_jira_stand_in_serves_issues_from_a_file_until_terminated(
        self, tmp_path: Path
    ) -> None:
        issues = tmp_path / "issues.json"
        issues.write_text(json.dumps([{"key": "DEMO-1", "fields": {"summary": "Demo"}}]))
        process, url = run("jira", "--email", "a@b.c", "--api-token", "t", "--issues", str(issues))
        try:
            issue = requests.get(f"{url}/rest/api/3/issue/DEMO-1", auth=("a@b.c", "t"), timeout=5)
            assert issue.json()["fields"]["summary"] == "Demo"
        finally:
            assert stop(process) == 0

    def test_the_jira_stand_in_runs_as_data_center_with_a_personal_access_token(
        self, tmp_path: Path
    ) -> None:
        issues = tmp_path / "issues.json"
        issues.write_text(json.dumps([{"key": "DEMO-2", "fields": {"summary": "On prem"}}]))
        process, url = run("jira", "--personal-access-token", "pat", "--issues", str(issues))
        try:
            issue = requests.get(f"{url}/rest/api/2/issue/DEMO-2", timeout=5,
                                 headers={"Authorization": "Bearer pat"})
            assert issue.json()["fields"]["summary"] == "On prem"
            cloud_only = requests.get(f"{url}/rest/api/3/issue/DEMO-2", timeout=5,
                                      headers={"Authorization": "Bearer pat"})
            assert cloud_only.status_code == 404
        finally:
            assert stop(process) == 0

    def test_the_slack_stand_in_takes_a_message_at_its_webhook_path(self) -> None:
        process, url = run("slack", "--path", "/services/T1/B1/abc")
        try:
            assert requests.post(f"{url}/services/T1/B1/abc", json={"text": "hi"},
                                 timeout=5).text == "ok"
            assert requests.post(f"{url}/services/T1/B1/other", json={"text": "hi"},
                                 timeout=5).status_code == 404
        finally:
            assert stop(process) == 0

    def test_the_openai_stand_in_can_refuse_roles_that_do_not_alternate(self) -> None:
        process, url = run("openai", "--alternating-roles")
        try:
            answer = requests.post(f"{url}/chat/completions", timeout=5,
                                   headers={"Authorization": "Bearer k"}, json={
                "model": "mistral-small", "messages": [
                    {"role": "system", "content": "s"}, {"role": "user", "content": "a"},
                    {"role": "user", "content": "b"}],
                "response_format": {"type": "json_schema", "json_schema": {
                    "name": "issue_spec", "strict": True, "schema": {"type": "object"}}}})
            assert answer.status_code == 400
            assert "alternate" in answer.json()["error"]["message"]
        finally:
            assert stop(process) == 0

    def test_the_bitbucket_stand_in_serves_the_given_repository(self, tmp_path: Path) -> None:
        repo = BitbucketEmulator.create_repository(tmp_path / "r.git", {"a.txt": b"a"})
        process, url = run(
            "bitbucket",
            "--repo",
            str(repo),
            "--workspace",
            "w",
            "--slug",
            "r",
            "--access-token",
            "t",
        )
        try:
            headers = {"Authorization": "Bearer t"}
            answer = requests.get(
                f"{url}/repositories/w/r/src/main/a.txt", headers=headers, timeout=5
            )
            assert answer.content == b"a"
        finally:
            assert stop(process) == 0

    def test_a_missing_repository_is_refused_at_start(self, tmp_path: Path) -> None:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "standins",
                "bitbucket",
                "--repo",
                str(tmp_path / "none"),
                "--access-token",
                "t",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 2 and "not a git repository" in result.stderr
