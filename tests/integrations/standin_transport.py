"""A `Transport` that hands each request to a stand-in's handler in this process, no socket.

The client then runs over exactly what it would send on the wire (auth, encoded body, quoted
path), while the stand-in records the request and serves its HTTP-answer faults as its socket
handler does. Faults that act on the socket (resets, stalls, streamed bodies) need HTTP.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import requests
from requests.structures import CaseInsensitiveDict

from integrations.http_transport import Answer
from standins.faults import Delay, Oversized, Reset
from standins.messages import RecordedRequest, Reply
from standins.server import StandinServer

SOCKET_FAULTS = (Delay, Oversized, Reset)


class StandinTransport:
    """No socket, so the timeout has nothing to time: a stand-in answers or raises."""

    def __init__(self, standin: StandinServer) -> None:
        self.standin = standin

    def send(self, request: requests.Request,
             timeout: tuple[float, float]) -> AbstractContextManager[Answer]:
        received = recorded(request.prepare())
        self.standin.record(received)
        reply = self.reply(received)
        headers = CaseInsensitiveDict({**self.standin.common_headers(), **reply.headers})
        if reply.content_type:
            headers["Content-Type"] = reply.content_type
        headers["Content-Length"] = str(len(reply.body))
        return nullcontext(Answer(reply.status, headers, [reply.body]))

    def reply(self, request: RecordedRequest) -> Reply:
        fault = self.standin.faults.take(request.method, request.path)
        if isinstance(fault, SOCKET_FAULTS):
            raise TypeError(f"{fault} acts on the socket: test it over HTTP")
        if fault is not None:
            return self.standin.fault_reply(request, fault)
        return self.standin.handle(request)


def recorded(prepared: requests.PreparedRequest) -> RecordedRequest:
    """The request as the stand-in's socket handler would have received it."""
    path, _, query = prepared.path_url.partition("?")
    body = prepared.body or b""
    return RecordedRequest(
        method=prepared.method or "GET", path=path, query=query,
        headers={name.lower(): value for name, value in prepared.headers.items()},
        body=body.encode() if isinstance(body, str) else body)
