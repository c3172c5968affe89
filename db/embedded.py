"""A private PostgreSQL cluster inside the project's data directory.

Used when `DATABASE_URL` is unset, and by the test suite for its throwaway server. The cluster
listens on 127.0.0.1 only, with a generated password (scram-sha-256) kept in a 0600 file.

PostgreSQL refuses to run as root. Run as root, the server runs as an unprivileged user
(`SDB_PG_USER`, default `nobody`): only our own cluster directory is handed to that user; no
permission outside it is changed. If that user cannot reach the directory or the binaries, we
stop with a message instead of loosening anything.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import URL

from base.errors import DatabaseError
from base.net import free_loopback_port
from db.pg_binaries import PgBinaries, find_pg_binaries

SUPERUSER = "sdb"
DEFAULT_DATABASE = "sdb_agent"



def port_is_free(port: int) -> bool:
    """Whether PostgreSQL could listen there. It binds with SO_REUSEADDR, so connections of
    its previous life still in TIME_WAIT do not make the port look taken (and a restart keeps
    its port, which the URLs cached by running processes rely on)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class EmbeddedPostgres:
    """One cluster directory: `pgdata/`, `password`, `port`, `postgres.log`, `run/`."""

    def __init__(self, root: Path, *, binaries: PgBinaries | None = None,
                 durable: bool = True) -> None:
        """`durable=False` skips every flush to disk (fsync off): a throwaway cluster, such as
        a test run's, is many times faster when the disk is busy and loses only itself in a
        crash."""
        self.root = root.resolve()
        self.pgdata = self.root / "pgdata"
        self.binaries = binaries or find_pg_binaries()
        self.durable = durable
        self._run_as = self._unprivileged_user() if os.geteuid() == 0 else None

    @staticmethod
    def _unprivileged_user() -> pwd.struct_passwd:
        name = os.environ.get("SDB_PG_USER", "nobody")
        try:
            return pwd.getpwnam(name)
        except KeyError:
            raise DatabaseError(
                f"running as root, the embedded PostgreSQL needs an unprivileged user; "
                f"'{name}' does not exist (set SDB_PG_USER)"
            ) from None

    @property
    def password(self) -> str:
        return (self.root / "password").read_text().strip()

    @property
    def port(self) -> int:
        return int((self.root / "port").read_text())

    def url(self, database: str = DEFAULT_DATABASE) -> URL:
        return URL.create(
            "postgresql+psycopg2",
            username=SUPERUSER,
            password=self.password,
            host="127.0.0.1",
            port=self.port,
            database=database,
        )

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        user = self._run_as.pw_uid if self._run_as else None
        group = self._run_as.pw_gid if self._run_as else None
        env = self.binaries.env
        if self._run_as:
            env["HOME"] = str(self.root)
        return subprocess.run(
            list(args),
            capture_output=True,
            text=True,
            env=env,
            user=user,
            group=group,
            cwd=self.root,
            check=False,
        )

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root.parent / f".{self.root.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _hand_over(self) -> None:
        """As root, give our cluster directory (only it) to the server's user."""
        if not self._run_as:
            return
        for path in [self.root, *self.root.rglob("*")]:
            os.chown(path, self._run_as.pw_uid, self._run_as.pw_gid, follow_symlinks=False)
        probe = self._run(str(self.binaries.path("postgres")), "--version")
        writable = self._run("test", "-w", str(self.root))
        if probe.returncode != 0 or writable.returncode != 0:
            raise DatabaseError(
                f"running as root, the embedded PostgreSQL runs as '{self._run_as.pw_name}', "
                f"who cannot reach {self.root} or {self.binaries.bindir}; put the project (or "
                "SDB_DATA_DIR) under a directory others may traverse, or set DATABASE_URL"
            )

    def _initdb(self) -> None:
        password_file = self.root / "password"
        password_file.write_text(secrets.token_urlsafe(24) + "\n")
        password_file.chmod(0o600)
        (self.root / "port").write_text(str(free_loopback_port()))
        self._hand_over()
        result = self._run(
            str(self.binaries.path("initdb")),
            "-D",
            str(self.pgdata),
            "-U",
            SUPERUSER,
            "--pwfile",
            str(password_file),
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            "-E",
            "UTF8",
            "--locale=C",
        )
        if result.returncode != 0:
            shutil.rmtree(self.pgdata, ignore_errors=True)
            raise DatabaseError(f"initdb failed: {result.stderr.strip()[-500:]}")

    def is_running(self) -> bool:
        status = self._run(str(self.binaries.path("pg_ctl")), "status", "-D", str(self.pgdata))
        return status.returncode == 0

    def start(self) -> URL:
        """Create the cluster if needed, start it if stopped; return the app database's URL."""
        with self._locked():
            if not (self.pgdata / "PG_VERSION").exists():
                self._initdb()
            if not self.is_running():
                self._start_server()
            self.ensure_database(DEFAULT_DATABASE)
        return self.url()

    def _start_server(self) -> None:
        if not port_is_free(self.port):
            (self.root / "port").write_text(str(free_loopback_port()))
        run_dir = self.root / "run"
        run_dir.mkdir(exist_ok=True)
        self._hand_over()
        options = f"-p {self.port} -k {run_dir} -c listen_addresses=127.0.0.1"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        result = self._run(
            str(self.binaries.path("pg_ctl")),
            "start",
            "-w",
            "-t",
            "60",
            "-D",
            str(self.pgdata),
            "-l",
            str(self.root / "postgres.log"),
            "-o",
            options,
        )
        if result.returncode != 0:
            log_tail = (self.root / "postgres.log").read_text(errors="replace")[-800:]
            raise DatabaseError(f"embedded PostgreSQL did not start: {log_tail.strip()}")

    def ensure_database(self, name: str) -> None:
        """Create the database if it does not exist (the server must be running)."""
        psql = str(self.binaries.path("psql"))
        base = [psql, "-h", str(self.root / "run"), "-p", str(self.port), "-U", SUPERUSER]
        exists = self._run(
            *base, "-d", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"
        )
        if exists.stdout.strip() != "1":
            created = self._run(*base, "-d", "postgres", "-c", f'CREATE DATABASE "{name}"')
            if created.returncode != 0:
                raise DatabaseError(f"cannot create database {name}: {created.stderr.strip()}")

    def stop(self) -> None:
        """Stop the server (fast shutdown); a stopped cluster is left alone."""
        with self._locked():
            if (self.pgdata / "PG_VERSION").exists() and self.is_running():
                self._run(
                    str(self.binaries.path("pg_ctl")),
                    "stop",
                    "-m",
                    "fast",
                    "-w",
                    "-D",
                    str(self.pgdata),
                )
