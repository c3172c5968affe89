"""What several benchmarks share: a scratch directory, Prefect's server on PostgreSQL or SQLite,
and the CP949 tables every flow benchmark edits (one row added per file)."""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any


def scratch(name: str) -> Path:
    """A new directory of this benchmark's; as root, the embedded server's user must enter it."""
    path = Path(tempfile.mkdtemp(prefix=f"sdb-bench-{name}-"))
    path.chmod(0o755)
    return path


def prefect_postgres_bindir() -> Path | None:
    """A PostgreSQL build with pg_trgm for Prefect's own state (BENCH_PREFECT_PG_BIN names one),
    or None."""
    import os

    from db.pg_binaries import PgBinaries, binaries_with_extension

    named = os.environ.get("BENCH_PREFECT_PG_BIN")
    if named:
        return Path(named) if PgBinaries(Path(named)).has_extension("pg_trgm") else None
    found = binaries_with_extension("pg_trgm")
    return found.bindir if found else None


def start_prefect(stack: ExitStack, root: Path, pg_bindir: Path | None) -> str:
    """A Prefect server under `root` with its state in SQLite, or in a PostgreSQL from
    `pg_bindir`; stopped by `stack`. Returns its API URL."""
    from db.embedded import EmbeddedPostgres
    from db.pg_binaries import PgBinaries
    from deployments.local_prefect import LocalPrefectServer

    database_url: str | None = None
    if pg_bindir is not None:
        prefect_pg = EmbeddedPostgres(root / "prefect-pg", binaries=PgBinaries(pg_bindir))
        stack.callback(prefect_pg.stop)
        prefect_pg.start()
        prefect_pg.ensure_database("prefect")
        url = prefect_pg.url("prefect").set(drivername="postgresql+asyncpg")
        database_url = url.render_as_string(hide_password=False)
    prefect = LocalPrefectServer(root, database_url=database_url)
    stack.callback(prefect.stop)
    return prefect.ensure()


def cp949_table(index: int) -> bytes:
    rows = "".join(f'\t{{ MAT_{index}_{n:03d},\t"M{index}{n:03d}",\t{n}.0 }},\r\n'
                   for n in range(200))
    text = f"// 재료 표 {index} (CP949)\r\nstatic const Row kRows{index}[] = {{\r\n{rows}}};\r\n"
    return text.encode("cp949")


def table_files(count: int) -> dict[str, bytes]:
    return {f"src/Table{i}.cpp": cp949_table(i) for i in range(count)}


def table_targets(path: Path, count: int) -> Path:
    path.write_text("targets:\n" + "".join(
        f"  - path: src/Table{i}.cpp\n    encoding: cp949\n    instructions: add the row\n"
        for i in range(count)))
    return path


def script_table_edits(llm: Any, count: int) -> None:
    """The stand-in's answers: a spec, then for each table the edit that adds row 999."""
    llm.script("issue_spec", {"spec_markdown": "Add row 999 to every table."})
    for i in range(count):
        llm.script("file_edits", {"edits": [{
            "search": f'\t{{ MAT_{i}_199,\t"M{i}199",\t199.0 }},\n',
            "replace": f'\t{{ MAT_{i}_199,\t"M{i}199",\t199.0 }},\n'
                       f'\t{{ MAT_{i}_999,\t"M{i}999",\t999.0 }},\n'}],
            "summary": "row added"}, path=f"src/Table{i}.cpp")
