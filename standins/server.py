"""The HTTP machinery every stand-in shares: a threaded stdlib server with recording and faults.

The stdlib server is used rather than a framework so faults can act on the socket itself
(resets, stalls, bodies cut short) exactly as a flaky network or service would.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from standins.faults import GENERIC_FAULTS, Fault, FaultPlan, Malformed, Status
from standins.handler import StandinHandler
from standins.messages import RecordedRequest, Reply

log = logging.getLogger(__name__)


class StandinServer:
    """Base class: subclasses implement ``handle`` and ``error_reply`` in their service's terms."""

    prefix = ""
    supported_faults: tuple[type, ...] = GENERIC_FAULTS

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0) -> None:
        self.host = host
        self.port = port
        self.latency = latency
        self.faults = FaultPlan(self.supported_faults)
        self.requests: list[RecordedRequest] = []
        self.most_in_flight = 0  # the most requests it was answering at once
        self._in_flight = 0
        self._record_lock = threading.Lock()
        self._httpd: _Httpd | None = None
        self._thread: threading.Thread | None = None

    # -- service hooks -------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        raise NotImplementedError

    def error_reply(self, status: int, message: str) -> Reply:
        raise NotImplementedError

    def fault_reply(self, request: RecordedRequest, fault: Fault) -> Reply:
        """The answer for a fault that is an HTTP response (not a socket trick)."""
        if isinstance(fault, Status):
            reply = self.error_reply(fault.code, f"Stand-in fault: HTTP {fault.code}")
            if isinstance(fault.body, bytes):
                reply.body = fault.body
            elif fault.body is not None:
                reply.body = json.dumps(fault.body).encode()
            if fault.retry_after is not None:
                reply.headers["Retry-After"] = f"{fault.retry_after:g}"
            return reply
        if isinstance(fault, Malformed):
            return Reply(200, b'{"id": 1, "values": [{"name": "trunc')
        raise TypeError(f"unsupported fault {fault!r}")

    def common_headers(self) -> dict[str, str]:
        return {}

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("stand-in is not running")
        return f"http://{self.host}:{self._httpd.server_address[1]}{self.prefix}"

    def start(self) -> str:
        if self._httpd is not None:
            raise RuntimeError("stand-in is already running")
        self._httpd = _Httpd((self.host, self.port), StandinHandler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=type(self).__name__,
            daemon=True,
        )
        self._thread.start()
        log.info("%s listening on %s", type(self).__name__, self.base_url)
        return self.base_url

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        self._httpd = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def record(self, request: RecordedRequest) -> None:
        with self._record_lock:
            self.requests.append(request)

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Counts the requests being answered at once (clients' concurrency is observable)."""
        with self._record_lock:
            self._in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._record_lock:
                self._in_flight -= 1

    @property
    def faults_served(self) -> int:
        return len(self.faults.served)


class _Httpd(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type, standin: StandinServer) -> None:
        self.standin = standin
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Kept-alive connections must not outlive the server, or clients would still be served."""
        with self._connections_lock:
            for conn in self._connections:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)
