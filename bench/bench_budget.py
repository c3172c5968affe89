"""Benchmark the hard daily LLM budget under concurrency, and what a reservation costs a call.

Run from the repository root: `python bench/bench_budget.py` (or `make bench`). It starts its
own PostgreSQL and the OpenAI stand-in on 127.0.0.1. Eight runs at once, each making the
calls of one issue (the spec and 10 edits) through the real LLM client and budget guard
against the stand-in at 0.2 s latency, under a per-day cap that fits about half of them;
repeated 10 times on a fresh ledger. Target: total spend never over the cap (the maximum over
the repetitions is reported). Then the overhead of the ledger per call at zero latency: the
median call time with the guard and without it, measured interleaved in the same run.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RUNS, CALLS, REPETITIONS, LATENCY = 8, 11, 10, 0.2
OVERHEAD_CALLS = int(os.environ.get("BENCH_OVERHEAD_CALLS", "200"))
SCRATCH = Path(tempfile.mkdtemp(prefix="sdb-bench-budget-"))
SCRATCH.chmod(0o755)  # our own directory; as root the embedded server's user must enter it
ANSWER = {"spec_markdown": "Add Ti-6Al-4V with density 4.43 g/cm3. " * 24}  # ~240 tokens


def main() -> None:
    from db.embedded import EmbeddedPostgres
    from standins.openai_server import OpenAIStandin

    pg = EmbeddedPostgres(SCRATCH / "pg")
    try:
        url = pg.start()
        with OpenAIStandin() as llm:
            llm.script("issue_spec", ANSWER)
            os.environ.update({
                "DATABASE_URL": url.render_as_string(hide_password=False),
                "SDB_DATA_DIR": str(SCRATCH), "OPENAI_BASE_URL": llm.base_url,
                "OPENAI_API_KEY": "bench", "LLM_MAX_RETRIES": "0", "LLM_CACHE_TTL_HOURS": "0",
                "LLM_MAX_COMPLETION_TOKENS": "256"})
            measure(llm)
    finally:
        pg.stop()
        shutil.rmtree(SCRATCH, ignore_errors=True)


def measure(llm: object) -> None:
    from sqlalchemy import text

    from base.settings import Settings
    from db import issue_runs, migrate
    from tasks.runtime import Runtime, install_runtime

    def runtime(**values: str) -> Runtime:
        built = Runtime(Settings.from_values({**os.environ, **values}))
        install_runtime(built)
        return built

    plain = runtime()
    migrate.upgrade(plain.engine)
    engine = plain.engine
    def new_runs(repetition: int) -> list[int]:
        """Runs of their own for each repetition: a run the cap stopped stays stopped."""
        return [issue_runs.claim(engine, issue_key=f"BEN-{repetition}-{i}", summary="s",
                                 issue_data={}, spec_hash="h", flow_run_id=None, force=False,
                                 lease=timedelta(hours=1),
                                 flow_run_ended=lambda _: None).history_id
                for i in range(RUNS)]

    llm.latency = LATENCY  # type: ignore[attr-defined]
    one_run = cost_of_one_run(new_runs(0)[0])
    cap = (one_run * RUNS / 2).quantize(Decimal("0.000001"))
    runtime(LLM_BUDGET_PER_DAY_USD=str(cap))
    spends, refused, made = [], [], []
    for repetition in range(1, REPETITIONS + 1):
        with engine.begin() as conn:  # a fresh day's ledger
            conn.execute(text("TRUNCATE llm_budget_day, llm_budget_reservation, llm_call_history"))
        calls, refusals = run_concurrently(new_runs(repetition))
        with engine.connect() as conn:
            spends.append(Decimal(conn.execute(text(
                "SELECT coalesce(sum(estimated_cost), 0) FROM llm_call_history")).scalar_one()))
        refused.append(refusals)
        made.append(calls)
    print(f"8 concurrent runs x {CALLS} calls at {LATENCY} s latency, one run costs "
          f"${one_run:.6f}; per-day cap ${cap} (about half), {REPETITIONS} repetitions")
    print(f"  spend: max ${max(spends):.6f}, median ${statistics.median(spends):.6f} "
          f"(target: never over ${cap}): {'ok' if max(spends) <= cap else 'OVER THE CAP'}")
    print(f"  calls made per repetition: median {statistics.median(made)} of {RUNS * CALLS}; "
          f"runs stopped by the cap: median {statistics.median(refused)} of {RUNS}")
    llm.latency = 0.0  # type: ignore[attr-defined]
    fresh = issue_runs.claim(engine, issue_key="BEN-overhead", summary="s", issue_data={},
                             spec_hash="h", flow_run_id=None, force=False,
                             lease=timedelta(hours=1), flow_run_ended=lambda _: None)
    overhead(fresh.history_id, runtime)


def ask(history_id: int, n: int) -> None:
    from integrations.llm.client import LlmOutputError
    from integrations.llm.schemas import Kind
    from tasks.context import run_context

    run = run_context(history_id)
    try:
        run.llm(run.recorder()).complete(Kind.ISSUE_SPEC, [
            {"role": "user", "content": f"Issue {history_id}: call {n} {time.perf_counter_ns()}"}])
    except LlmOutputError:
        pass  # cut off at the allowance: paid for and booked all the same


def cost_of_one_run(history_id: int) -> Decimal:
    from sqlalchemy import text

    from tasks.runtime import current_runtime

    for n in range(CALLS):
        ask(history_id, n)
    with current_runtime().engine.begin() as conn:
        cost = conn.execute(text("SELECT sum(estimated_cost) FROM llm_call_history")).scalar_one()
    return Decimal(cost)


def run_concurrently(ids: list[int]) -> tuple[int, int]:
    """(calls made, runs refused) of RUNS runs started together."""
    from base.errors import BudgetExceeded

    start, lock = threading.Barrier(len(ids)), threading.Lock()
    counts = {"calls": 0, "refused": 0}

    def one(history_id: int) -> None:
        start.wait()
        for n in range(CALLS):
            try:
                ask(history_id, n)
            except BudgetExceeded:
                with lock:
                    counts["refused"] += 1
                return
            with lock:
                counts["calls"] += 1

    threads = [threading.Thread(target=one, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts["calls"], counts["refused"]


def overhead(history_id: int, runtime: object) -> None:
    """Median call time with the ledger (a budget in force) and without (no guard), the two
    interleaved so that both see the same machine."""
    from base.settings import Settings
    from integrations.llm.schemas import Kind
    from tasks.context import run_context
    from tasks.runtime import current_runtime
    from tasks.wiring import build_llm_client

    runtime(LLM_BUDGET_PER_DAY_USD="1000000")  # type: ignore[operator]
    settings: Settings = current_runtime().settings
    guarded: list[float] = []
    bare: list[float] = []
    for n in range(OVERHEAD_CALLS):
        run = run_context(history_id)
        recorder = run.recorder()
        with_guard = run.llm(recorder)
        without = build_llm_client(settings, recorder, run.engine)
        for client, times in ((with_guard, guarded), (without, bare)):
            messages = [{"role": "user", "content": f"overhead {n} {id(times)}"}]
            started = time.perf_counter()
            try:
                client.complete(Kind.ISSUE_SPEC, messages)
            except Exception:  # noqa: BLE001 - a cut-off answer costs the same time
                pass
            times.append(time.perf_counter() - started)
    with_ms, without_ms = statistics.median(guarded) * 1000, statistics.median(bare) * 1000
    print(f"reservation overhead at zero latency ({OVERHEAD_CALLS} calls each, interleaved): "
          f"median {with_ms:.2f} ms with the ledger, {without_ms:.2f} ms without: "
          f"{with_ms - without_ms:+.2f} ms per call ({with_ms / without_ms:.2f}x)")


if __name__ == "__main__":
    main()
