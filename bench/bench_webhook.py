"""Webhook burst: 1,000 signed deliveries (half of them redeliveries) from a second process on
loopback. Reports how many flow runs were created (must equal the unique deliveries) and the
p50/p99 acknowledgement latency. Target: p99 <= 100 ms on 2 cores.

Run from the repository root: `python bench/bench_webhook.py` (or `make bench`). It starts its
own PostgreSQL, Prefect server and the HTTP app on 127.0.0.1. The Prefect server keeps its
state in SQLite, unless BENCH_PREFECT_PG_BIN names a PostgreSQL build with pg_trgm (e.g.
/usr/lib/postgresql/15/bin with Debian's contrib): then in a second throwaway PostgreSQL, as
in production.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DELIVERIES = int(os.environ.get("BENCH_DELIVERIES", "1000"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
SECRET = "bench-webhook-secret"
SCRATCH = Path(tempfile.mkdtemp(prefix="sdb-bench-webhook-"))
SCRATCH.chmod(0o755)  # our own directory; as root the embedded server's user must enter it

LOAD = textwrap.dedent('''
    import hashlib, hmac, json, random, sys, time
    from concurrent.futures import ThreadPoolExecutor
    import requests
    base, secret = sys.argv[1], sys.argv[2].encode()
    total, clients = int(sys.argv[3]), int(sys.argv[4])
    unique = total // 2
    order = [i % unique for i in range(total)]
    random.Random(7).shuffle(order)
    local = __import__("threading").local()
    def send(n):
        session = getattr(local, "s", None) or requests.Session()
        local.s = session
        body = json.dumps({"webhookEvent": "jira:issue_created", "issue": {"key": f"BUR-{n + 1}",
            "fields": {"summary": f"burst {n}", "description": "x"}}}).encode()
        digest = hmac.new(secret, body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Hub-Signature": "sha256=" + digest,
                   "X-Atlassian-Webhook-Identifier": f"burst-{n}"}
        started = time.perf_counter()
        answer = session.post(base + "/webhooks/jira", data=body, headers=headers, timeout=60)
        return time.perf_counter() - started, answer.status_code
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(send, order))
    print(json.dumps({"latencies": [r[0] for r in results], "codes": [r[1] for r in results],
                      "unique": unique}))
''')



def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


def start_services(stack: ExitStack) -> tuple[str, str]:
    """PostgreSQL (and optionally Prefect's own) and the Prefect server, stopped by `stack`."""
    from db.embedded import EmbeddedPostgres
    from deployments.local_prefect import LocalPrefectServer

    stack.callback(shutil.rmtree, SCRATCH, ignore_errors=True)
    pg = EmbeddedPostgres(SCRATCH / "pg")
    stack.callback(pg.stop)
    url = pg.start()
    prefect_db = None
    if os.environ.get("BENCH_PREFECT_PG_BIN"):
        from db.pg_binaries import PgBinaries

        prefect_pg = EmbeddedPostgres(SCRATCH / "prefect-pg",
                                      binaries=PgBinaries(Path(os.environ["BENCH_PREFECT_PG_BIN"])))
        stack.callback(prefect_pg.stop)
        prefect_pg.start()
        prefect_pg.ensure_database("prefect")
        prefect_db = prefect_pg.url("prefect").set(drivername="postgresql+asyncpg")
        prefect_db = prefect_db.render_as_string(hide_password=False)
    prefect = LocalPrefectServer(SCRATCH, database_url=prefect_db)
    stack.callback(prefect.stop)
    prefect_url = prefect.ensure()
    print(f"Prefect state in {'PostgreSQL' if prefect_db else 'SQLite'}")
    return url.render_as_string(hide_password=False), prefect_url


def main() -> None:
    with ExitStack() as stack:
        database_url, prefect_url = start_services(stack)
        os.environ.update({"DATABASE_URL": database_url, "SDB_DATA_DIR": str(SCRATCH),
                           "PREFECT_API_URL": prefect_url, "JIRA_WEBHOOK_SECRET": SECRET,
                           "PREFECT_LOGGING_LEVEL": "WARNING"})
        run_burst(stack)


def run_burst(stack: ExitStack) -> None:
    import uvicorn
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    from db import migrate
    from db.session import get_engine
    from deployments.http.app import create_app
    from deployments.serve import process_issue_deployment
    from sdb_agent.net import free_loopback_port
    from sdb_agent.runner import prefect_api_url
    from sdb_agent.settings import get_settings

    prefect_api_url()
    migrate.upgrade(get_engine())
    process_issue_deployment(get_settings()).apply()
    port = free_loopback_port()
    http = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                         log_level="warning"))
    thread = threading.Thread(target=http.run, daemon=True)
    thread.start()
    stack.callback(thread.join, timeout=10)
    stack.callback(setattr, http, "should_exit", True)
    while not http.started:
        time.sleep(0.05)
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", LOAD, f"http://127.0.0.1:{port}", SECRET,
                          str(DELIVERIES), str(CLIENTS)], capture_output=True, text=True,
                         check=False)
    if out.returncode != 0:
        raise SystemExit(f"the load generator failed: {out.stderr[-2000:]}")
    wall = time.perf_counter() - started
    result = json.loads(out.stdout)
    with get_client(sync_client=True) as client:
        runs = client.count_flow_runs(deployment_filter=DeploymentFilter(
            name=DeploymentFilterName(any_=["process-issue"])))
    latencies = [x * 1000 for x in result["latencies"]]
    codes = {code: result["codes"].count(code) for code in set(result["codes"])}
    print(f"{DELIVERIES} deliveries ({result['unique']} unique) from {CLIENTS} client threads "
          f"in a second process, {wall:.1f} s: answers {codes}")
    print(f"  flow runs created: {runs} (must equal {result['unique']})")
    print(f"  ack latency p50 {percentile(latencies, 0.50):.1f} ms, "
          f"p99 {percentile(latencies, 0.99):.1f} ms (target p99 <= 100 ms)")

if __name__ == "__main__":
    main()
