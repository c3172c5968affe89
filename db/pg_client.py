"""Run PostgreSQL client programs (`pg_dump`, `pg_restore`) against the history database.

The programs come from the server bundle (`find_pg_binaries`) or else from PATH. `pg_dump`
refuses servers newer than itself, so the major versions are checked first with a message
that says what to install. Connection details go in `PG*` environment variables: the
password is never on a command line, and never logged.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from base.errors import DatabaseError, SdbAgentError
from db.pg_binaries import PgBinaries, find_pg_binaries

CLIENT_PROGRAMS = ("pg_dump", "pg_restore")


class BackupError(SdbAgentError):
    """A backup could not be taken, verified or restored; the message says why."""


def find_client_binaries() -> PgBinaries:
    """The server bundle's bin directory if it has `pg_dump`, else the one on PATH."""
    try:
        bundled = find_pg_binaries()
        if bundled.path("pg_dump").exists():
            return bundled
    except DatabaseError:
        pass
    on_path = shutil.which("pg_dump")
    if on_path is None:
        raise BackupError(
            "no pg_dump found: install the PostgreSQL client tools or set SDB_PG_BIN"
        )
    return PgBinaries(Path(on_path).parent)


def server_major_version(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def check_client_versions(binaries: PgBinaries, *, server_major: int) -> None:
    """Fail with a clear line when `pg_dump`/`pg_restore` is older than the server."""
    for program in CLIENT_PROGRAMS:
        major = binaries.major_version(program)
        if major < server_major:
            raise BackupError(
                f"{binaries.path(program)} is PostgreSQL {major}, older than the server "
                f"(PostgreSQL {server_major}); {program} must be version {server_major} or "
                f"newer: install postgresql-client-{server_major} or set SDB_PG_BIN"
            )


@dataclass(frozen=True)
class PgClient:
    """Client programs bound to one server; `database` picks the database per call."""

    binaries: PgBinaries
    url: URL

    def env(self, database: str | None = None) -> dict[str, str]:
        env = self.binaries.env
        env.update(
            PGHOST=self.url.host or "127.0.0.1",
            PGPORT=str(self.url.port or 5432),
            PGUSER=self.url.username or "",
            PGDATABASE=database or self.url.database or "",
            PGPASSWORD=self.url.password or "",
            PGCONNECT_TIMEOUT="10",
        )
        return env

    def run(
        self, program: str, *args: str, database: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.binaries.path(program)), "--no-password", *args],
            capture_output=True,
            text=True,
            env=self.env(database),
            check=False,
        )


def failure_reason(result: subprocess.CompletedProcess[str]) -> str:
    """The last meaningful stderr line of a failed client program."""
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"exit status {result.returncode}"
