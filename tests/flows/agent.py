"""A whole offline setup for the process-issue flow: Bitbucket emulator, LLM stand-in,
targets file and settings, all pointed at this test's PostgreSQL and the session's Prefect API."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from cli.demo import EXAMPLES
from db.models import IssueProcessingHistory
from standins.bitbucket import BitbucketEmulator
from standins.openai_server import OpenAIStandin

if TYPE_CHECKING:
    from flows.run_result import RunResult
    from tests.conftest import ConfiguredRuntime

TOKEN = "bbat-test-token-123"


def sample_files() -> dict[str, bytes]:
    root = EXAMPLES / "sample-repo"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def canned() -> dict[str, Any]:
    answers: dict[str, Any] = json.loads(
        (EXAMPLES / "canned-responses.json").read_text(encoding="utf-8"))
    return answers


def demo_issue() -> dict[str, Any]:
    issue: dict[str, Any] = json.loads((EXAMPLES / "demo-issue.json").read_text(encoding="utf-8"))
    return issue


@dataclass
class Agent:
    bitbucket: BitbucketEmulator
    llm: OpenAIStandin
    engine: Engine
    runtime: ConfiguredRuntime
    targets_file: Path
    payload: dict[str, Any] = field(default_factory=demo_issue)

    @property
    def env(self) -> dict[str, str]:
        """The agent's settings as environment variables (for a subprocess)."""
        values: dict[str, str] = self.runtime.values
        return values

    def configure(self, **values: str | None) -> None:
        """Change the agent's settings, as a deployment would change its environment."""
        self.runtime.set(**values)

    def script_canned(self) -> None:
        answers = canned()
        self.llm.script("issue_spec", answers["issue_spec"])
        for path, reply in answers["file_edits"].items():
            self.llm.script("file_edits", reply, path=path)

    def run(self, **kwargs: Any) -> RunResult:
        from cli.runner import run_issue_now

        return run_issue_now(issue=kwargs.pop("issue", self.payload), issue_key=None, **kwargs)

    def runs(self) -> list[Any]:
        with Session(self.engine) as session:
            return list(
                session.scalars(select(IssueProcessingHistory).order_by(IssueProcessingHistory.id))
            )

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params))

    def llm_requests(self, schema: str | None = None) -> list[dict[str, Any]]:
        bodies = [r.json() for r in self.llm.requests if r.path.endswith("/chat/completions")]
        return [
            b
            for b in bodies
            if schema is None or b["response_format"]["json_schema"]["name"] == schema
        ]

    def changed_paths(self) -> list[str]:
        """Paths that differ between main and the work branch, from git itself."""
        repo = str(self.bitbucket.git.path)
        out = subprocess.run(["git", "--git-dir", repo, "diff", "--name-only", "main",
                              self.branch_name()], check=True, capture_output=True, text=True)
        return sorted(out.stdout.split())

    def branch_name(self) -> str:
        return "sdb/MAT-101-add-titanium-alloy-ti-6al-4v-to-the"


def write_targets(path: Path, extra: str = "") -> Path:
    path.write_text(
        (EXAMPLES / "targets.yaml").read_text(encoding="utf-8") + extra, encoding="utf-8"
    )
    return path


def subprocess_env(agent: Agent) -> dict[str, str]:
    return agent.runtime.env()
