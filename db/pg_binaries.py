"""Find PostgreSQL server binaries without a system install.

Priority: `SDB_PG_BIN` (a directory), then the server bundled in the `pgserver` wheel (a locked
dependency, so every machine has it), then `pg_config --bindir` on PATH, then the newest
`/usr/lib/postgresql/*/bin`.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from base.errors import DatabaseError


@dataclass(frozen=True)
class PgBinaries:
    """A directory of PostgreSQL programs and the environment they need to run."""

    bindir: Path

    def path(self, program: str) -> Path:
        return self.bindir / program

    @property
    def env(self) -> dict[str, str]:
        """The environment with the bundle's `lib/` first, so its tools find their libpq."""
        env = dict(os.environ)
        libdir = self.bindir.parent / "lib"
        if libdir.is_dir():
            env["LD_LIBRARY_PATH"] = os.pathsep.join(
                p for p in (str(libdir), env.get("LD_LIBRARY_PATH", "")) if p
            )
        return env

    def major_version(self, program: str = "postgres") -> int:
        out = subprocess.run(
            [str(self.path(program)), "--version"], capture_output=True, text=True, env=self.env
        ).stdout
        match = re.search(r"(\d+)(?:\.\d+)?", out)
        if not match:
            raise DatabaseError(f"cannot tell the version of {self.path(program)}: {out!r}")
        return int(match.group(1))


    def has_extension(self, name: str) -> bool:
        """Whether this build ships the extension (e.g. pg_trgm, which Prefect's schema needs)."""
        if not self.path("pg_config").exists():
            return False
        out = subprocess.run([str(self.path("pg_config")), "--sharedir"], capture_output=True,
                             text=True, env=self.env, check=False).stdout.strip()
        return bool(out) and (Path(out) / "extension" / f"{name}.control").exists()


def _bundled_bindir() -> Path | None:
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    candidate = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return candidate if (candidate / "postgres").exists() else None


def _path_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip()
    return Path(out) if out and (Path(out) / "postgres").exists() else None


def _debian_bindir() -> Path | None:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


def candidate_binaries() -> Iterator[PgBinaries]:
    """Every directory with a `postgres` server, in the documented order."""
    override = os.environ.get("SDB_PG_BIN")
    if override:
        if not (Path(override) / "postgres").exists():
            raise DatabaseError(f"SDB_PG_BIN={override} holds no 'postgres' program")
        yield PgBinaries(Path(override))
        return
    seen: set[Path] = set()
    for finder in (_bundled_bindir, _path_bindir, _debian_bindir):
        bindir = finder()
        if bindir is not None and bindir.resolve() not in seen:
            seen.add(bindir.resolve())
            yield PgBinaries(bindir)


def binaries_with_extension(name: str) -> PgBinaries | None:
    """The first server build, in the documented order, that ships the extension."""
    return next((b for b in candidate_binaries() if b.has_extension(name)), None)


def find_pg_binaries() -> PgBinaries:
    """The first directory, in the documented order, that holds a `postgres` server."""
    found = next(candidate_binaries(), None)
    if found is None:
        raise DatabaseError(
            "no PostgreSQL server found: reinstall with 'make install' (it bundles one), "
            "or set DATABASE_URL to an external PostgreSQL"
        )
    return found
