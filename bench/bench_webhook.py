"""Webhook burst: 1,000 signed deliveries (half of them redeliveries) and, mixed among them
in the same shuffled order and from the same client threads of a second process on loopback,
1,000 POSTs to a bare FastAPI route added to this benchmark's app instance only. A delivery is
acknowledged once its outbox row is committed (one PostgreSQL transaction); the app's hand-off
loop then creates the flow runs. Reports, per burst:

- the acknowledgement p50/p99 beside the bare route's p99 under the same load, and their
  ratio (target: ack p99 <= 3 x the bare route's p99);
- how long the hand-off loop took to drain the burst's rows after the last answer;
- the flow runs created, which must equal the unique deliveries exactly once the loop has
  drained: anything else (or any answer other than one 202 and one 200 per delivery id) stops
  the benchmark with an error.

Run from the repository root: `python bench/bench_webhook.py` (or `make bench`). It starts its
own PostgreSQL and the HTTP app on 127.0.0.1, and measures side by side in one run with the
Prefect server keeping its state

- in PostgreSQL, as in production (docker-compose): a second throwaway PostgreSQL from the
  first build found with the pg_trgm extension that Prefect's schema needs (BENCH_PREFECT_PG_BIN
  names one; the bundled build lacks it, Debian's postgresql package has it). Skipped, and
  said so, when there is none;
- in SQLite, as the local server of `sdb-agent serve` without a Prefect API.

Nothing executes the runs here, so Prefect's late-runs service is off: it would otherwise mark
each burst's 500 waiting runs late during the next burst, work that a served deployment, which
starts its runs, never causes. Each backend gets BENCH_BURSTS (3) bursts against one app,
reported one by one and as medians. Before them, 2 x clients unique deliveries warm the app,
the Prefect server and the connection pools; they are not timed and their runs not counted.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchkit import prefect_postgres_bindir, scratch, start_prefect  # noqa: E402

DELIVERIES = int(os.environ.get("BENCH_DELIVERIES", "1000"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
BURSTS = int(os.environ.get("BENCH_BURSTS", "3"))
SECRET = "bench-webhook-secret"
SCRATCH = scratch("webhook")

LOAD = textwrap.dedent('''
    import hashlib, hmac, json, random, sys, time
    from concurrent.futures import ThreadPoolExecutor
    import requests
    base, secret = sys.argv[1], sys.argv[2].encode()
    total, clients, prefix = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    unique = total // 2
    order = [("webhook", i % unique) for i in range(total)] + [("bare", i) for i in range(total)]
    random.Random(7).shuffle(order)
    local = __import__("threading").local()
    def send(item):
        kind, n = item
        session = getattr(local, "s", None) or requests.Session()
        local.s = session
        body = json.dumps({"webhookEvent": "jira:issue_created", "issue": {"key": f"BUR-{n + 1}",
            "fields": {"summary": f"burst {n}", "description": "x"}}}).encode()
        digest = hmac.new(secret, body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Hub-Signature": "sha256=" + digest,
                   "X-Atlassian-Webhook-Identifier": f"{prefix}-{n}"}
        path = "/webhooks/jira" if kind == "webhook" else "/bench/bare"
        started = time.perf_counter()
        answer = session.post(base + path, data=body, headers=headers, timeout=60)
        return kind, n, time.perf_counter() - started, answer.status_code
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(send, order))
    print(json.dumps({"results": results, "unique": unique}))
''')



def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


@dataclass(frozen=True)
class Burst:
    ack_p50: float
    ack_p99: float
    bare_p99: float
    drain_seconds: float

    @property
    def ratio(self) -> float:
        return self.ack_p99 / self.bare_p99


def main() -> None:
    from db import migrate
    from db.embedded import EmbeddedPostgres
    from tasks.runtime import current_runtime

    pg_bindir = prefect_postgres_bindir()
    backends: list[tuple[str, Path | None]] = [("postgresql", pg_bindir)] if pg_bindir else []
    backends.append(("sqlite", None))
    if pg_bindir is None:
        print("Prefect on PostgreSQL: skipped, no PostgreSQL build with pg_trgm found "
              "(set BENCH_PREFECT_PG_BIN)")
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, SCRATCH, ignore_errors=True)
        pg = EmbeddedPostgres(SCRATCH / "pg")
        stack.callback(pg.stop)
        os.environ.update({"DATABASE_URL": pg.start().render_as_string(hide_password=False),
                           "SDB_DATA_DIR": str(SCRATCH), "JIRA_WEBHOOK_SECRET": SECRET,
                           "PREFECT_LOGGING_LEVEL": "WARNING",
                           "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "false"})
        migrate.upgrade(current_runtime().engine)
        for name, bindir in backends:
            with ExitStack() as backend_stack:
                prefect_url = start_prefect(backend_stack, SCRATCH / name, bindir)
                run_bursts(prefect_url, name)


def bench_app() -> Any:
    """The product's app plus one bare route: the same process, server and middleware, so
    the difference between the two is what accepting a delivery costs."""
    from deployments.http.app import create_app

    app = create_app()

    @app.post("/bench/bare", include_in_schema=False)
    async def bare() -> dict[str, str]:
        return {"status": "ok"}

    return app


def run_bursts(prefect_url: str, name: str) -> None:
    """BURSTS warmed-up bursts against a fresh app; prints each and their medians."""
    import uvicorn
    from prefect.context import refresh_global_settings_context

    from base.net import free_loopback_port
    from deployments.serve import process_issue_deployment
    from tasks.runtime import current_runtime

    os.environ["PREFECT_API_URL"] = prefect_url
    refresh_global_settings_context()  # Prefect reads its settings once per process otherwise
    process_issue_deployment(current_runtime().settings).apply()
    port = free_loopback_port()
    http = uvicorn.Server(uvicorn.Config(bench_app(), host="127.0.0.1", port=port,
                                         log_level="warning"))
    thread = threading.Thread(target=http.run, daemon=True)
    thread.start()
    try:
        while not http.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        load(base, 4 * CLIENTS, f"{name}-warm")
        wait_drained()
        print(f"Prefect state in {name}: bursts of {DELIVERIES} deliveries "
              f"({DELIVERIES // 2} unique) and {DELIVERIES} bare-route POSTs, shuffled, from "
              f"{CLIENTS} client threads in a second process")
        bursts = [one_burst(base, f"{name}-{n}") for n in range(1, BURSTS + 1)]
    finally:
        http.should_exit = True
        thread.join(timeout=10)
    ack99, bare99 = (statistics.median(b.ack_p99 for b in bursts),
                     statistics.median(b.bare_p99 for b in bursts))
    print(f"  median of {BURSTS}: ack p50 {statistics.median(b.ack_p50 for b in bursts):.1f} ms; "
          f"ack p99 {ack99:.1f} ms, bare route p99 {bare99:.1f} ms -> ratio "
          f"{statistics.median(b.ratio for b in bursts):.1f}x (target <= 3x); hand-off loop "
          f"drained in {statistics.median(b.drain_seconds for b in bursts):.1f} s")


def one_burst(base: str, prefix: str) -> Burst:
    """One burst; prints what it measured, and stops the benchmark if a run is missing or
    doubled once the hand-off loop has drained."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    with get_client(sync_client=True) as client:
        runs_filter = DeploymentFilter(name=DeploymentFilterName(any_=["process-issue"]))
        before = client.count_flow_runs(deployment_filter=runs_filter)
        started = time.perf_counter()
        result = load(base, DELIVERIES, prefix)
        answered = time.perf_counter()
        wait_drained()
        drained = time.perf_counter()
        runs = client.count_flow_runs(deployment_filter=runs_filter) - before
    webhook = [r for r in result["results"] if r[0] == "webhook"]
    bare = [r[2] * 1000 for r in result["results"] if r[0] == "bare"]
    acks = [r[2] * 1000 for r in webhook]
    codes = {code: [r[3] for r in webhook].count(code) for code in sorted({r[3] for r in webhook})}
    unique = result["unique"]
    burst = Burst(percentile(acks, 0.50), percentile(acks, 0.99), percentile(bare, 0.99),
                  drained - answered)
    print(f"  burst {prefix}: {answered - started:.1f} s, webhook answers {codes}; ack p50 "
          f"{burst.ack_p50:.1f} ms, ack p99 {burst.ack_p99:.1f} ms, bare route p99 "
          f"{burst.bare_p99:.1f} ms -> ratio {burst.ratio:.1f}x (target <= 3x); hand-off loop "
          f"drained {drained - answered:.1f} s after the last answer; flow runs created {runs} "
          f"(must equal {unique})")
    if runs != unique or codes != {200: unique, 202: unique}:
        raise SystemExit(f"burst {prefix}: {runs} flow runs and answers {codes} for {unique} "
                         "unique deliveries: each must be one 202, one 200 and one flow run")
    if any(r[3] != 200 for r in result["results"] if r[0] == "bare"):
        raise SystemExit(f"burst {prefix}: the bare route failed")
    return burst


def wait_drained(timeout: float = 600) -> None:
    """Until no delivery is queued: the hand-off loop has made every run."""
    from db import webhook_outbox
    from tasks.runtime import current_runtime

    deadline = time.monotonic() + timeout
    while webhook_outbox.backlog(current_runtime().engine).waiting:
        if time.monotonic() > deadline:
            raise SystemExit(f"the hand-off loop did not drain within {timeout:.0f} s")
        time.sleep(0.02)


def load(base: str, deliveries: int, prefix: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", LOAD, base, SECRET, str(deliveries),
                          str(CLIENTS), prefix], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"the load generator failed: {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout)
    return result


if __name__ == "__main__":
    main()
