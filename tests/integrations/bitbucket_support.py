"""Building a `BitbucketClient` for the emulator, and reading what it uploaded."""

from __future__ import annotations

import subprocess
from email import policy
from email.parser import BytesParser

import requests.auth

from base.recording import ApiRecorder
from integrations.bitbucket import BitbucketClient
from integrations.bitbucket_http import BearerAuth
from integrations.http_retry import RetryPolicy
from integrations.http_transport import Transport
from standins.bitbucket import BitbucketEmulator
from tests.integrations.conftest import BB_TOKEN
from tests.integrations.standin_transport import StandinTransport

FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)
WAYS = ["http", "in-process"]  # how a client reaches the emulator: its socket, or its handler


class FakeTime:
    """A clock that only a sleep moves: waits are noted, not slept."""

    def __init__(self) -> None:
        self.now, self.sleeps = 1000.0, list[float]()

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def client_for(bitbucket: BitbucketEmulator, recorder: ApiRecorder, *,
               auth: requests.auth.AuthBase | tuple[str, str] | None = None,
               retry: RetryPolicy = FAST_RETRY, sleeps: list[float] | None = None,
               timeout: tuple[float, float] = (2.0, 2.0), time: FakeTime | None = None,
               max_file_bytes: int = 50 * 1024 * 1024,
               transport: Transport | None = None) -> BitbucketClient:
    """A client whose waits are noted (in `sleeps`, or by `time`) instead of slept."""
    fake = time or FakeTime()
    if sleeps is not None:
        fake.sleeps = sleeps
    return BitbucketClient(api_url=bitbucket.base_url, workspace="acme", repository="shop",
                           auth=auth or BearerAuth(BB_TOKEN), recorder=recorder, retry=retry,
                           timeout=timeout, max_file_bytes=max_file_bytes, sleep=fake.sleep,
                           clock=fake.monotonic, transport=transport)


def client_by(way: str, bitbucket: BitbucketEmulator, recorder: ApiRecorder) -> BitbucketClient:
    """A client over HTTP, or one whose requests go straight to the emulator's handler."""
    return client_for(bitbucket, recorder,
                      transport=StandinTransport(bitbucket) if way == "in-process" else None)


def multipart_parts(content_type: str, body: bytes) -> list[tuple[str, str | None, bytes]]:
    """(field name, filename or None, raw bytes) of every part, in order."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=policy.default).parsebytes(head + body)
    parts = []
    for part in message.iter_parts():
        disposition = part["Content-Disposition"]
        payload = part.get_payload(decode=True)
        name = disposition.params["name"].encode("ascii", "surrogateescape").decode("utf-8")
        assert isinstance(payload, bytes)
        parts.append((str(name), disposition.params.get("filename"), payload))
    return parts


def git_blob(bitbucket: BitbucketEmulator, commit: str, path: str) -> bytes:
    """The blob's bytes as git itself stores them."""
    return subprocess.run(["git", "-C", str(bitbucket.git.path), "cat-file", "blob",
                           f"{commit}:{path}"], capture_output=True, check=True).stdout
