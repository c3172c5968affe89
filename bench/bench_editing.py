"""Benchmark the edit engine: 100 edits on a ~5 MB CP949 file, and the window ratio.

Run from the repository root: ``python bench/bench_editing.py``. Reports medians.
Targets: apply (byte proof and diff included) <= 150 ms; window <= 25 % of the file.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from editing import Edit, apply_edits, build_window, estimate_tokens  # noqa: E402
from tests.editing.edit_samples import join, material_id, material_source  # noqa: E402

RUNS = 7
EDITS = 100
APPLY_TARGET_MS = 150


def median_ms(action: Callable[[], object], runs: int = RUNS) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def bench_apply() -> None:
    rows = 40_000
    lines = material_source(total_lines=137_000, table_rows=rows)
    data = join(lines, "\r\n").encode("cp949")
    step = rows // EDITS
    edits = [Edit(f"\t{{ {material_id(n)},", f"\t{{ {material_id(n)}_V2,")
             for n in range(0, rows, step)][:EDITS]
    configured = median_ms(lambda: apply_edits(data, edits, path="material.cpp",
                                                configured_encoding="cp949"))
    detected = median_ms(lambda: apply_edits(data, edits, path="material.cpp"))
    result = apply_edits(data, edits, path="material.cpp", configured_encoding="cp949")
    out = sys.stdout
    out.write(f"file: {len(data) / 1e6:.2f} MB cp949, {len(lines)} lines, CRLF\n")
    out.write(f"apply {len(edits)} edits (byte proof and diff included), configured cp949: "
              f"median {configured:.1f} ms over {RUNS} runs (target <= {APPLY_TARGET_MS} ms)\n")
    out.write(f"apply {len(edits)} edits (byte proof and diff included), detected encoding: "
              f"median {detected:.1f} ms (target <= {APPLY_TARGET_MS} ms)\n")
    out.write(f"result: {result.hunk_count} hunks, {len(result.diff)} diff chars\n")


def bench_window() -> None:
    lines = material_source(total_lines=5000, table_rows=300)
    text = join(lines, "\r\n")
    spec = (f"신규 재료 '티타늄'을 kMaterialTable 에 추가하세요. {material_id(299)} 다음, "
            "밀도 4.51f, MaterialId enum 에 MAT_TITANIUM 추가.")
    window = build_window(text, spec, token_budget=4000)
    elapsed = median_ms(lambda: build_window(text, spec, token_budget=4000))
    ratio = window.tokens / estimate_tokens(text)
    sys.stdout.write(f"window: {len(lines)} lines, {window.tokens} of {window.file_tokens} "
                     f"tokens = {ratio:.1%} (target <= 25%), {len(window.regions)} regions, "
                     f"median {elapsed:.1f} ms\n")


if __name__ == "__main__":
    bench_apply()
    bench_window()
