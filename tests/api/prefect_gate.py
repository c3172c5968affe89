"""The real Prefect API behind a gate that fails on demand, as a Prefect server does when it
restarts or its database is busy: faults from a plan (503, stalls, resets), or down entirely
(nothing listens) and back on the same address."""

from __future__ import annotations

import requests

from standins.messages import RecordedRequest, Reply, json_reply
from standins.server import StandinServer

FORWARDED_HEADERS = ("content-type", "accept", "authorization")


class PrefectGate(StandinServer):
    def __init__(self, upstream_api: str) -> None:
        super().__init__()
        self.upstream = upstream_api.removesuffix("/api")
        self._session = requests.Session()
        self.created: list[str] = []  # idempotency keys of creations Prefect answered 2xx

    def handle(self, request: RecordedRequest) -> Reply:
        url = f"{self.upstream}{request.path}" + (f"?{request.query}" if request.query else "")
        headers = {k: v for k, v in request.headers.items() if k in FORWARDED_HEADERS}
        answer = self._session.request(request.method, url, data=request.body,
                                       headers=headers, timeout=30)
        if request.path.endswith("/create_flow_run") and answer.ok:
            self.record_creation(request.json().get("idempotency_key") or "")
        return Reply(answer.status_code, answer.content,
                     content_type=answer.headers.get("content-type"))

    def record_creation(self, key: str) -> None:
        with self._record_lock:
            self.created.append(key)

    def error_reply(self, status: int, message: str) -> Reply:
        return json_reply(status, {"exception_message": message})

    def down(self) -> None:
        """Stop listening and drop open connections, keeping the port for `up`."""
        self.port = int(self.base_url.rsplit(":", 1)[1].split("/")[0])
        self.stop()

    def up(self) -> str:
        return self.start()

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api"

    def creations(self) -> int:
        """How many flow-run creations reached the gate (faulted ones, and ones Prefect on
        SQLite refused as busy, included)."""
        return sum(1 for r in self.requests if r.method == "POST"
                   and r.path.endswith("/create_flow_run"))
