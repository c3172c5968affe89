"""Take a `pg_dump -Fc` backup that is only called a backup once it is verified.

The dump is written to `<name>.partial` and fsynced; it is renamed to `<name>` (with a
`<name>.sha256` beside it) only after verification: the `PGDMP` magic bytes, `pg_restore
--list` (the table of contents) and a full `pg_restore` to /dev/null (every data block is
read and decompressed, so truncation and damaged data blocks are caught), after checking
the file still has the sha256 taken right after the dump was fsynced. A failed run removes its
partial file, so nothing half-written ever looks like a backup.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path

from db.pg_client import BackupError, PgClient, failure_reason

MAGIC = b"PGDMP"
SUFFIX = ".dump"


def dump_name(database: str, *, now: datetime) -> str:
    return f"{database}-{now.strftime('%Y%m%dT%H%M%SZ')}{SUFFIX}"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def dump_to_partial(
    client: PgClient, *, target: Path, snapshot: str | None = None, lock_wait_timeout: str = "60s"
) -> Path:
    """Dump into `<target>.partial` and fsync it; on failure leave no file behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    args = ["--format=custom", f"--file={partial}", f"--lock-wait-timeout={lock_wait_timeout}"]
    if snapshot:
        args.append(f"--snapshot={snapshot}")
    result = client.run("pg_dump", *args)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {failure_reason(result)}")
    _fsync(partial)
    _fsync(partial.parent)
    return partial


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_dump(client: PgClient, path: Path, *, sha256: str) -> None:
    """Raise `BackupError` unless the file is the dump that was written (same sha256) and a
    complete, readable custom-format dump."""
    with path.open("rb") as handle:
        head = handle.read(len(MAGIC))
    if head != MAGIC:
        raise BackupError(f"{path.name} is not a pg_dump custom-format file (no PGDMP header)")
    if file_sha256(path) != sha256:
        raise BackupError(f"{path.name} changed since it was written (sha256 differs)")
    listing = client.run("pg_restore", "--list", str(path))
    if listing.returncode != 0:
        raise BackupError(f"pg_restore --list failed on {path.name}: {failure_reason(listing)}")
    full_read = client.run("pg_restore", "--file=/dev/null", str(path))
    if full_read.returncode != 0:
        raise BackupError(f"{path.name} does not read back: {failure_reason(full_read)}")


def publish(partial: Path, *, sha256: str) -> Path:
    """Rename the verified partial file to its final name and write the checksum beside it."""
    final = partial.with_name(partial.name.removesuffix(".partial"))
    os.replace(partial, final)
    checksum = final.with_name(final.name + ".sha256")
    checksum.write_text(f"{sha256}  {final.name}\n")
    _fsync(checksum)
    _fsync(final.parent)
    return final


def remove_dump(path: Path) -> None:
    """Delete a dump and its checksum file (either may already be gone)."""
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".sha256").unlink(missing_ok=True)
