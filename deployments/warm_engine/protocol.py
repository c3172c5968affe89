"""The client's request and the server's replies on the warm engine's socket (standard library
only: the client must start in milliseconds)."""

from __future__ import annotations

import json
import os
import socket
import struct
from dataclasses import dataclass
from typing import Any

SOCKET_ENV = "SDB_WARM_ENGINE_SOCKET"
STREAMS = 3  # stdin, stdout, stderr, passed as file descriptors
_LENGTH = struct.Struct("!I")
MAX_REQUEST = 1 << 20  # an environment is kilobytes; anything near this is not a client


class ProtocolError(Exception):
    """The peer sent something this side does not understand."""


@dataclass(frozen=True)
class Request:
    argv: list[str]
    env: dict[str, str]
    cwd: str


def send_request(sock: socket.socket, request: Request, streams: list[int]) -> None:
    body = json.dumps({"argv": request.argv, "env": request.env, "cwd": request.cwd}).encode()
    data = _LENGTH.pack(len(body)) + body
    sent = socket.send_fds(sock, [data[:4096]], streams)
    sock.sendall(data[sent:])


def receive_request(sock: socket.socket) -> tuple[Request, list[int]]:
    """The request and its streams; the caller owns (and must close) the descriptors."""
    first, fds, _flags, _address = socket.recv_fds(sock, 4096, STREAMS)
    try:
        if len(fds) != STREAMS or len(first) < _LENGTH.size:
            raise ProtocolError(f"expected {STREAMS} streams and a length, got {len(fds)}")
        (length,) = _LENGTH.unpack_from(first)
        if length > MAX_REQUEST:
            raise ProtocolError(f"a request of {length} bytes is too long")
        body = bytearray(first[_LENGTH.size:])
        while len(body) < length:
            chunk = sock.recv(length - len(body))
            if not chunk:
                raise ProtocolError("the client left in the middle of its request")
            body += chunk
        fields = json.loads(body)
        request = Request(argv=[str(a) for a in fields["argv"]],
                          env={str(k): str(v) for k, v in fields["env"].items()},
                          cwd=str(fields["cwd"]))
    except (ProtocolError, ValueError, KeyError, TypeError, AttributeError) as exc:
        for fd in fds:
            _close(fd)
        raise ProtocolError(str(exc)) from exc
    return request, list(fds)


def send_reply(sock: socket.socket, **reply: int) -> None:
    """`pid=` once the run is forked, then `exit=` with its exit code (negative: a signal)."""
    sock.sendall(json.dumps(reply).encode() + b"\n")


def read_reply(stream: Any) -> dict[str, Any]:
    """The next reply line from a file made of the socket; {} when the server is gone."""
    line = stream.readline()
    if not line:
        return {}
    reply = json.loads(line)
    if not isinstance(reply, dict):
        raise ProtocolError(f"not a reply: {line!r}")
    return reply


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
