"""A real SMTP server on loopback (aiosmtpd) that keeps what it is sent, for the tests of
email the product sends (the daily cost report, the cost alert)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from aiosmtpd.controller import Controller

from base.net import free_loopback_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(envelope.original_content)  # type: ignore[attr-defined]
        return "250 OK"


@contextmanager
def loopback_smtp(inbox: Inbox) -> Iterator[int]:
    """The server's port while it runs."""
    port = free_loopback_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
