"""Per-connection request handling: read, record, apply latency and faults, then answer."""

from __future__ import annotations

import logging
import socket
import struct
import time
from contextlib import AbstractContextManager
from http.server import BaseHTTPRequestHandler
from typing import Protocol

from standins.faults import Delay, Fault, FaultPlan, Oversized, Reset
from standins.messages import RecordedRequest, Reply

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
_LINGER_RESET = struct.pack("ii", 1, 0)


class Answerer(Protocol):
    """What a connection asks of its stand-in (`StandinServer`)."""

    latency: float
    faults: FaultPlan

    def answering(self) -> AbstractContextManager[None]: ...

    def record(self, request: RecordedRequest) -> None: ...

    def handle(self, request: RecordedRequest) -> Reply: ...

    def fault_reply(self, request: RecordedRequest, fault: Fault) -> Reply: ...

    def error_reply(self, status: int, message: str) -> Reply: ...

    def common_headers(self) -> dict[str, str]: ...


class StandinHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "standin/1.0"
    # The head and the body go out as two writes; with Nagle's algorithm the body waits for the
    # client's delayed ACK of the head (about 40 ms on Linux), which web servers avoid by
    # setting TCP_NODELAY, as the providers' front ends do.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    @property
    def standin(self) -> Answerer:
        return self.server.standin  # type: ignore[attr-defined, no-any-return]

    def _serve(self) -> None:
        with self.standin.answering():
            self._answer()

    def _answer(self) -> None:
        path, _, query = self.path.partition("?")
        request = RecordedRequest(
            method=self.command,
            path=path,
            query=query,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self._read_body(),
        )
        self.standin.record(request)
        if self.standin.latency:
            time.sleep(self.standin.latency)
        fault = self.standin.faults.take(request.method, request.path)
        if fault is not None:
            log.info("serving %s to %s %s", fault, request.method, request.path)
        if isinstance(fault, Reset):
            self._reset()
            return
        if isinstance(fault, Oversized):
            self._stream_oversized(fault.n_bytes)
            return
        if isinstance(fault, Delay):
            time.sleep(fault.seconds)
            fault = None
        try:
            if fault is None:
                reply = self.standin.handle(request)
            else:
                reply = self.standin.fault_reply(request, fault)
        except Exception:
            log.exception("stand-in failed on %s %s", request.method, request.path)
            reply = self.standin.error_reply(500, "Internal stand-in error")
        self._send(reply)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(parts)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            headers = {**self.standin.common_headers(), **reply.headers}
            if reply.content_type:
                headers["Content-Type"] = reply.content_type
            headers["Content-Length"] = str(len(reply.body))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)
        except OSError:
            log.debug("client went away before the answer was written")
            self.close_connection = True

    def _reset(self) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        self.connection.close()
        self.close_connection = True

    def _stream_oversized(self, n_bytes: int) -> None:
        head, tail = b'{"type": "page", "values": ["', b'"]}'
        filler = max(0, n_bytes - len(head) - len(tail))
        try:
            self.send_response(200)
            for name, value in self.standin.common_headers().items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(head) + filler + len(tail)))
            self.end_headers()
            self.wfile.write(head)
            block = b"x" * CHUNK
            while filler > 0:
                self.wfile.write(block[: min(CHUNK, filler)])
                filler -= CHUNK
            self.wfile.write(tail)
        except OSError:
            log.debug("client stopped reading the oversized body")
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s %s", self.address_string(), format % args)
