"""`make demo`: the real process-issue flow on a bundled example, with nothing set up beforehand.

It uses the embedded PostgreSQL, a scratch copy of `examples/sample-repo` behind the local git
host, a local Prefect server (so the run is visible in its UI), the Jira stand-in (Cloud)
holding the issue and printing the run's comment as it is written, and, without
`OPENAI_API_KEY`, the OpenAI-compatible stand-in answering with canned responses.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import SecretStr

from base.settings import Settings
from cli.result_text import describe_result
from cli.runner import run_issue_now
from db import migrate
from db.migrate import PROJECT_ROOT
from db.session import masked, resolve_database_url
from deployments.local_prefect import prefect_api_url
from flows.run_result import RunResult
from standins.jira import JiraStandin
from standins.openai_server import OpenAIStandin
from tasks.runtime import Runtime, current_runtime, using_runtime

EXAMPLES = PROJECT_ROOT / "examples"
GIT_IDENTITY = ["-c", "user.name=Material DB team", "-c", "user.email=team@example.com"]


def prepare_sample_repo(repo: Path) -> Path:
    """A git repository holding the sample sources, created once and kept between demos."""
    if (repo / ".git").exists():
        return repo
    shutil.copytree(EXAMPLES / "sample-repo", repo)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 [*GIT_IDENTITY, "commit", "-q", "-m", "Material DB sources"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    return repo


@contextmanager
def canned_llm(settings: Settings, echo: Callable[[str], None]) -> Iterator[Settings]:
    """Serve the canned answers on 127.0.0.1 unless a real OPENAI_API_KEY is configured; the
    settings that reach the LLM in use."""
    if settings.openai_api_key is not None:
        echo(f"LLM: {settings.llm_model} at {settings.openai_base_url or 'OpenAI'}")
        yield settings
        return
    canned = json.loads((EXAMPLES / "canned-responses.json").read_text(encoding="utf-8"))
    with OpenAIStandin() as standin:
        standin.script("issue_spec", canned["issue_spec"])
        for path, reply in canned["file_edits"].items():
            standin.script("file_edits", reply, path=path)
        echo("LLM: CANNED responses from examples/canned-responses.json, served by the "
             "OpenAI-compatible stand-in (set OPENAI_API_KEY to call a real model)")
        yield settings.model_copy(update={"openai_base_url": standin.base_url,
                                          "openai_api_key": SecretStr("canned-demo")})


@contextmanager
def demo_jira(settings: Settings, issue: dict[str, object],
              echo: Callable[[str], None]) -> Iterator[Settings]:
    """The demo issue in the Jira stand-in, always (the demo never writes to a real Jira);
    each comment the run writes is echoed as the stand-in receives it."""
    email, token = "sdb-agent@example.com", "demo-jira-token"
    with JiraStandin(email, token) as jira:
        jira.add_issue(issue)
        jira.watch_comments(lambda key, action, text: echo(
            f"Jira comment {action} on {key}:\n" + "\n".join(f"    {line}"
                                                             for line in text.splitlines())))
        echo(f"Jira: the stand-in (Cloud, REST v3) at {jira.base_url} holds the issue")
        yield settings.model_copy(update={"jira_base_url": jira.base_url, "jira_email": email,
                                          "jira_api_token": SecretStr(token),
                                          "jira_personal_access_token": None,
                                          "jira_feedback": "comment"})


def run_demo(*, echo: Callable[[str], None]) -> RunResult:
    runtime = current_runtime()
    settings = runtime.settings
    url = resolve_database_url(settings)
    source = "DATABASE_URL" if settings.database_url else f"embedded, in {settings.data_dir}/"
    echo(f"database: {masked(url)} ({source})")
    before = migrate.current_revision(runtime.engine)
    migrate.upgrade(runtime.engine)
    echo(f"schema: {before or 'empty'} -> {migrate.current_revision(runtime.engine)}")
    repo = prepare_sample_repo((settings.data_dir / "demo" / "repo").resolve())
    settings = settings.model_copy(update={"git_provider": "local", "local_repo_path": repo,
                                           "targets_file": EXAMPLES / "targets.yaml"})
    echo(f"repository: {repo} (local git host; targets in examples/targets.yaml)")
    api = prefect_api_url(settings)
    echo(f"Prefect UI: {api.removesuffix('/api')}  (API {api})")
    payload = json.loads((EXAMPLES / "demo-issue.json").read_text(encoding="utf-8"))
    echo(f"issue: {payload['issue']['key']} {payload['issue']['fields']['summary']}")
    with (demo_jira(settings, payload["issue"], echo) as jira_settings,
          canned_llm(jira_settings, echo) as demo_settings,
          using_runtime(Runtime(demo_settings, engine=runtime.engine))):
        result = run_issue_now(issue=payload, issue_key=None)
    for line in describe_result(result):
        echo(line)
    if result.get("flow_run_id"):
        echo(f"flow run: {api.removesuffix('/api')}/runs/flow-run/{result['flow_run_id']}")
    echo(f"history: .venv/bin/sdb-agent history show {result['history_id']}")
    return result
