"""Where one process-issue run spends its time: the task runs' start and end as the Prefect API
recorded them, in seconds from the flow run's start, and the gaps between the steps.

Run from the repository root: `python bench/bench_trace.py` (or `make bench`). It sets up what
`bench/bench_flow.py` does (10 CP949 files, every service on 127.0.0.1), warms up with one run,
then traces BENCH_TRACE_RUNS (2) runs at each latency of BENCH_TRACE_LATENCIES (`0,1` seconds
of stand-in LLM latency). The README's breakdown comes from this script.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_flow  # noqa: E402  (it quiets Prefect's logging before Prefect is imported)

RUNS = int(os.environ.get("BENCH_TRACE_RUNS", "2"))
LATENCIES = [float(v) for v in os.environ.get("BENCH_TRACE_LATENCIES", "0,1").split(",")]


def seconds(at: datetime | None, origin: float) -> float | None:
    return None if at is None else at.timestamp() - origin


def span(start: float | None, end: float | None) -> str:
    if start is None or end is None:
        return "      -"
    return f"{start:5.2f}-{end:5.2f} ({end - start:4.2f} s)"


def trace(n: int) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    called = time.time()
    result = bench_flow.run_flow(n)
    returned = time.time()
    run_id = uuid.UUID(result["flow_run_id"])
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
        deadline = time.monotonic() + 10
        while True:  # task runs' states reach the API as events, a moment after the run ends
            tasks = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
            ended = [t for t in tasks if t.end_time is not None]
            if any(t.name.startswith("open_pull_request") for t in ended) and len(
                    ended) == len(tasks) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert run.start_time and run.end_time and run.created
    origin = run.start_time.timestamp()
    end = run.end_time.timestamp() - origin
    print(f"  run {n}: {returned - called:.2f} s from the call to its return; flow run created "
          f"{run.created.timestamp() - called:.2f} s after the call, started "
          f"{origin - run.created.timestamp():.2f} s later, ended at {end:.2f} s, returned "
          f"{returned - run.end_time.timestamp():.2f} s after")
    outside = outside_seconds(result["history_id"])
    steps: dict[str, list[tuple[float | None, float | None, float]]] = {}
    for task_run in tasks:
        name = "edit (one per file)" if task_run.name.startswith("edit ") else (
            task_run.name.rsplit("-", 1)[0])
        steps.setdefault(name, []).append(
            (seconds(task_run.start_time, origin), seconds(task_run.end_time, origin),
             outside.get(task_run.id, 0.0)))
    ordered = sorted(steps.items(), key=lambda item: min(s or 0.0 for s, _, _ in item[1]))
    for name, runs in ordered:
        starts = [s for s, _, _ in runs if s is not None]
        ends = [e for _, e, _ in runs if e is not None]
        first, last = (min(starts) if starts else None), (max(ends) if ends else None)
        ours = [e - s - o for s, e, o in runs if s is not None and e is not None]
        waited = max(o for _, _, o in runs)
        each = (f"; outside calls up to {waited:.2f} s, the rest {min(ours):.2f}-"
                f"{max(ours):.2f} s" if waited else "")
        print(f"    {name:22s} x{len(runs):<2d} {span(first, last)}{each}")


def outside_seconds(history_id: int) -> dict[uuid.UUID, float]:
    """Per task run, the time its LLM and git-host calls took as history recorded them (calls
    made in parallel inside one task overlap: their longest is counted, not their sum)."""
    from sqlalchemy import text

    from tasks.runtime import current_runtime

    with current_runtime().engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT task_run_id, sum(duration_seconds) FROM llm_call_history "
            "WHERE history_id = :h GROUP BY task_run_id UNION ALL "
            "SELECT task_run_id, max(duration_seconds) FROM bitbucket_api_history "
            "WHERE history_id = :h AND api_method = 'GET' GROUP BY task_run_id UNION ALL "
            "SELECT task_run_id, sum(duration_seconds) FROM bitbucket_api_history "
            "WHERE history_id = :h AND api_method <> 'GET' GROUP BY task_run_id"),
            {"h": history_id}).all()
    totals: dict[uuid.UUID, float] = {}
    for task_run_id, duration in rows:
        if task_run_id is not None:
            totals[task_run_id] = totals.get(task_run_id, 0.0) + float(duration or 0)
    return totals


def main() -> None:
    counter = iter(range(1, 10_000))
    with ExitStack() as stack:
        llm: Any = bench_flow.setup(stack)
        bench_flow.run_flow(next(counter))  # warm-up: imports, first API calls
        for latency in LATENCIES:
            llm.latency = latency
            print(f"LLM latency {latency:g} s, {bench_flow.FILES} files; seconds from the flow "
                  "run's start (first start - last end of each step):")
            for _ in range(RUNS):
                trace(next(counter))
        bench_flow.flush_run_logs()


if __name__ == "__main__":
    main()
