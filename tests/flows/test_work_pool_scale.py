"""The production path at scale, on loopback: a Prefect server on the test PostgreSQL, the
process-issue deployment of `prefect.yaml` on a process work pool, three `sdb-agent worker`
processes, and `sdb-agent serve` without its runner taking 30 issues of three repositories
through the webhook. One worker is killed with SIGKILL (with the flow run it started, as a lost
machine) while the others work; the reaper marks its run crashed in Prefect, a redelivery
reruns it, and every issue ends with one completed history row, one branch and one PR.

The kill lands at a known step: each issue's spec answer waits at the LLM stand-in until the
test lets it through, and the first worker's run is held there (claimed, its row
`processing`) until the worker and the run are killed."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.client.schemas.objects import FlowRun
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL

from base.net import free_loopback_port
from db.embedded import EmbeddedPostgres
from db.pg_binaries import binaries_with_extension
from deployments.local_prefect import LocalPrefectServer
from standins.bitbucket import BitbucketEmulator
from standins.openai_server import OpenAIStandin
from tasks.reaper import reap_stale_runs
from tests.flows.agent import TOKEN, canned, demo_issue, sample_files, write_targets

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SECRET = "scale-secret"
ISSUES = int(os.environ.get("SDB_SCALE_ISSUES", "30"))  # fewer by hand, for a quicker look
WORKERS = 3
LEASE_SECONDS = 3


PROJECTS = {"ALP": "alpha", "BET": "beta", "GAM": "gamma"}  # Jira project: repository
ISSUE_KEY = re.compile(r"\b(?:ALP|BET|GAM)-\d+\b")


class SpecGates:
    """The spec answer of each issue waits until the test opens that issue's gate (or all of
    them), so that a run can be held at a known step: claimed, before its first paid call."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self._answer = answer
        self._lock = threading.Lock()
        self._gates: defaultdict[str, threading.Event] = defaultdict(threading.Event)
        self._all = threading.Event()

    def _gate(self, key: str) -> threading.Event:
        with self._lock:
            return self._gates[key]

    def open(self, key: str) -> None:
        self._gate(key).set()

    def open_all(self) -> None:
        self._all.set()

    def respond(self, request: dict[str, Any]) -> dict[str, Any]:
        found = ISSUE_KEY.search(json.dumps(request))
        gate = self._gate(found.group(0) if found else "")
        deadline = time.monotonic() + 300
        while not (gate.wait(0.1) or self._all.is_set()) and time.monotonic() < deadline:
            pass
        return self._answer


@dataclass
class Cluster:
    api_url: str
    serve_url: str
    engine: Engine
    repositories: dict[str, BitbucketEmulator]  # by Jira project
    workers: list[subprocess.Popen[bytes]]
    logs: Path
    gates: SpecGates

    def deliver(self, key: str, delivery: str) -> None:
        issue = demo_issue()
        issue["issue"]["key"] = key
        issue["issue"]["fields"]["project"] = {"key": key.split("-")[0]}
        issue["issue"]["fields"]["summary"] = f"Add titanium alloy ({key})"
        body = json.dumps(issue).encode()
        digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        answer = requests.post(f"{self.serve_url}/webhooks/jira", data=body, timeout=30, headers={
            "Content-Type": "application/json", "X-Hub-Signature": f"sha256={digest}",
            "X-Atlassian-Webhook-Identifier": delivery})
        assert answer.status_code == 202, answer.text

    def rows(self, sql: str) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql)).all())

    def flow_runs(self) -> list[FlowRun]:
        with temporary_settings(updates={PREFECT_API_URL: self.api_url}), \
                get_client(sync_client=True) as client:
            return client.read_flow_runs(limit=200)

    def tail(self) -> str:
        states = sorted((r.name, r.state_name) for r in self.flow_runs())
        logs = (f"--- {p.name}\n{p.read_text(errors='replace')[-1500:]}"
                for p in sorted(self.logs.glob("*.log")))
        return f"flow runs: {states}\n" + "\n".join(logs)


def keys() -> list[str]:
    """ISSUES issues, dealt over the projects in turn."""
    projects = list(PROJECTS)
    return [f"{projects[n % len(projects)]}-{n + 1}" for n in range(ISSUES)]


def projects_file(path: Path, targets: Path, repositories: dict[str, BitbucketEmulator]) -> Path:
    path.write_text("routes:\n" + "".join(
        f"  - project: {project}\n"
        f"    bitbucket: {{workspace: acme, repository: {PROJECTS[project]}, "
        f"api_url: '{bitbucket.base_url}'}}\n"
        f"    targets_file: {targets}\n" for project, bitbucket in repositories.items()),
        encoding="utf-8")
    return path


def wait_for(what: str, done: Callable[[], bool], cluster: Cluster, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{cluster.tail()}")
        time.sleep(1)


def started(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A process in a session of its own, so that killing its group also kills what it ran."""
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=open(log, "wb"), start_new_session=True)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture
def prefect_database() -> Iterator[str | None]:
    """Prefect's state in a PostgreSQL of its own when a build with pg_trgm (which Prefect's
    schema needs, and the bundled server lacks) is installed, as Debian's is; else SQLite."""
    binaries = binaries_with_extension("pg_trgm")
    if binaries is None:
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="sdb-test-prefect-pg-"))
    root.chmod(0o755)  # as root, the server's own user must enter it
    server = EmbeddedPostgres(root, binaries=binaries, durable=False)
    try:
        server.start()
        server.ensure_database("prefect")
        yield server.url("prefect").set(drivername="postgresql+asyncpg").render_as_string(
            hide_password=False)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def cluster(tmp_path: Path, prefect_database: str | None,
            database_url: URL) -> Iterator[Cluster]:
    tmp_path.chmod(0o755)
    server = LocalPrefectServer(tmp_path / "prefect", database_url=prefect_database)
    processes: list[subprocess.Popen[bytes]] = []
    logs = tmp_path / "logs"
    logs.mkdir()
    try:
        api_url = server.ensure()
        with ExitStack() as stack:
            repositories = {project: stack.enter_context(BitbucketEmulator(
                BitbucketEmulator.create_repository(tmp_path / f"{name}.git", sample_files()),
                "acme", name, access_token=TOKEN)) for project, name in PROJECTS.items()}
            llm = stack.enter_context(OpenAIStandin())
            answers = canned()
            gates = SpecGates(answers["issue_spec"])
            llm.script("issue_spec", gates.respond)
            for path, reply in answers["file_edits"].items():
                llm.script("file_edits", reply, path=path)
            env = {**os.environ,
                   "DATABASE_URL": database_url.render_as_string(hide_password=False),
                   "SDB_DATA_DIR": str(tmp_path / "data"), "GIT_PROVIDER": "bitbucket",
                   "BITBUCKET_ACCESS_TOKEN": TOKEN, "PROJECTS_FILE": str(projects_file(
                       tmp_path / "projects.yaml", write_targets(tmp_path / "targets.yaml"),
                       repositories)),
                   "OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": "sk-test-key-456",
                   "RUN_LEASE_SECONDS": str(LEASE_SECONDS), "CONCURRENCY_LIMITS": "false",
                   "JIRA_FEEDBACK": "off", "PREFECT_API_URL": api_url,
                   "SDB_AGENT_HOME": str(ROOT), "REPORT_TIMEZONE": "UTC",
                   "SERVE_RUNNER": "false", "JIRA_WEBHOOK_SECRET": SECRET,
                   "PREFECT_WORKER_QUERY_SECONDS": "1"}  # not 10: the test waits on each poll
            with temporary_settings(updates={PREFECT_API_URL: api_url}), \
                    get_client(sync_client=True) as client:
                client.create_work_pool(WorkPoolCreate(name="sdb-agent", type="process"))
            # the deploy, the workers and serve start side by side: none needs the others
            # until the first webhook, which the test sends once the deployment is there
            deploy = subprocess.Popen(
                [str(BIN / "prefect"), "--no-prompt", "deploy", "--name", "process-issue"],
                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            # the first worker, killed later, takes one run at a time: the one it is killed in
            processes += [started([str(BIN / "sdb-agent"), "worker", "--name", f"worker-{n}",
                                   "--limit", "1" if n == 0 else "2"],
                                  env, logs / f"worker-{n}.log") for n in range(WORKERS)]
            port = free_loopback_port()
            processes.append(started([str(BIN / "sdb-agent"), "serve"],
                                     {**env, "HTTP_PORT": str(port)}, logs / "serve.log"))
            output, _ = deploy.communicate(timeout=240)
            assert deploy.returncode == 0, output[-3000:]
            engine = create_engine(database_url)
            made = Cluster(api_url, f"http://127.0.0.1:{port}", engine, repositories,
                           processes[:WORKERS], logs, gates)

            def serving() -> bool:
                try:
                    return requests.get(f"{made.serve_url}/healthz", timeout=2).ok
                except requests.RequestException:
                    return False

            wait_for("serve to answer", serving, made, 90)
            try:
                yield made
            finally:
                gates.open_all()
                engine.dispose()
    finally:
        for process in processes:
            stop(process)
        server.stop()


def run_pid(run: FlowRun) -> int | None:
    """The pid of the process that runs `run` (a process worker records it)."""
    pid = (run.infrastructure_pid or "").rpartition(":")[2]
    return int(pid) if pid.isdigit() else None


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def parent_pid(pid: int | None) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, IndexError, ValueError):
        return None


@pytest.mark.longest
@pytest.mark.timeout(600)
def test_issues_of_three_repositories_on_three_workers_survive_a_killed_worker(
    cluster: Cluster,
) -> None:
    for key in keys():
        cluster.deliver(key, f"first-{key}")
    victim = cluster.workers[0]

    def engines() -> set[int]:
        return {int(d.name) for d in Path("/proc").iterdir()
                if d.name.isdigit() and parent_pid(int(d.name)) == victim.pid
                and b"deployments.warm_engine.server" in cmdline(int(d.name))}

    def children() -> set[int]:
        """The worker's flow-run processes (the clients of its warm engine, not the engine)."""
        return {int(d.name) for d in Path("/proc").iterdir()
                if d.name.isdigit() and parent_pid(int(d.name)) == victim.pid
                and b"deployments.warm_engine.server" not in cmdline(int(d.name))}

    def completed() -> set[str]:
        return {row.issue_key for row in cluster.rows(
            "SELECT issue_key FROM issue_processing_history WHERE status = 'completed'")}

    held: dict[uuid.UUID, int] = {}

    def victim_held_while_others_work() -> bool:
        """Hold every run at its spec until the first worker has one running, claimed and
        held (the others, full, leave it the next run), then let the others' runs through
        until they have finished a few issues."""
        pids = children()
        runs = cluster.flow_runs()
        mine = {r.id: pid for r in runs if (pid := run_pid(r)) in pids}
        claimed = {row.flow_run_id for row in cluster.rows(
            "SELECT flow_run_id FROM issue_processing_history WHERE status = 'processing'")}
        running = {r.id for r in runs if r.state_name == "Running"}
        held.clear()
        forked = {int(d.name) for d in Path("/proc").iterdir() if d.name.isdigit()
                  and parent_pid(int(d.name)) in engines()}
        # each of its runs is forked by its warm engine, not a new interpreter
        if mine and set(mine.values()) == pids and set(mine) <= running & claimed \
                and len(forked) == len(mine):
            held.update(mine)
            for run in runs:
                if run.state_name == "Running" and run.id not in mine:
                    cluster.gates.open(run.name)
        return bool(held) and len(completed()) >= WORKERS

    wait_for("the first worker's run to be held while the others work",
             victim_held_while_others_work, cluster, 300)
    for pid in held.values():  # the machine is lost: its run, then the worker
        os.kill(pid, signal.SIGKILL)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=10)
    cluster.gates.open_all()

    def settled() -> bool:
        """Every flow run over, once the reaper has had its say on the killed ones."""
        with temporary_settings(updates={PREFECT_API_URL: cluster.api_url}):
            reap_stale_runs(cluster.engine, older_than=timedelta(seconds=LEASE_SECONDS))
        return all(r.state_type and r.state_type.value in ("COMPLETED", "FAILED", "CRASHED")
                   for r in cluster.flow_runs()) and len(cluster.flow_runs()) >= ISSUES

    wait_for("every flow run to end", settled, cluster, 300)
    runs = {r.id: r for r in cluster.flow_runs()}
    assert all(runs[i].state_name == "Crashed" for i in held), [
        (runs[i].name, runs[i].state_name) for i in held]
    rerun = sorted(set(keys()) - completed())
    assert rerun == sorted(runs[i].name for i in held), rerun
    for key in rerun:
        cluster.deliver(key, f"rerun-{key}")

    wait_for("the reruns to complete", lambda: completed() == set(keys()), cluster, 300)
    counts = cluster.rows("SELECT issue_key, count(*) FROM issue_processing_history "
                          "WHERE status = 'completed' GROUP BY issue_key")
    assert sorted(k for k, n in counts if n == 1) == sorted(keys())
    assert cluster.rows("SELECT id FROM issue_processing_history "
                        "WHERE status = 'processing'") == []
    for project, bitbucket in cluster.repositories.items():
        prs = list(bitbucket.pull_requests.values())
        assert sorted(pr.title.split(":")[0] for pr in prs) == sorted(
            k for k in keys() if k.startswith(f"{project}-"))
        branches = {pr.source for pr in prs}
        assert len(branches) == len(prs) and all(bitbucket.git.branch_tip(b) for b in branches)
    routed = cluster.rows("SELECT DISTINCT issue_key, repository FROM issue_processing_history "
                          "WHERE status = 'completed'")
    assert sorted(routed) == sorted((k, f"acme/{PROJECTS[k.split('-')[0]]}") for k in keys())
