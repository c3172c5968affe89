"""The git host's transport: one pool per host shared by every task, and no cookie kept."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from pydantic import SecretStr

from base.recording import NullRecorder
from base.settings import Settings
from integrations.bitbucket import BitbucketClient
from integrations.http_transport import SessionTransport
from tasks.wiring import build_git_host


class _CookieSetter(BaseHTTPRequestHandler):
    """Answers every GET with a session cookie, and keeps the Cookie header each request
    carried (RFC 6265 section 4.1: a client that keeps cookies sends them back)."""

    protocol_version = "HTTP/1.1"
    seen: list[str | None] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.headers.get("Cookie"))
        body = b"{}"
        self.send_response(200)
        self.send_header("Set-Cookie", "session=caller-one; Path=/")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's name
        pass


@pytest.fixture
def cookie_server() -> Iterator[str]:
    _CookieSetter.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CookieSetter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_cookie_one_answer_sets_is_never_sent_with_the_next_request(
        cookie_server: str) -> None:
    transport = SessionTransport()
    for token in ("first", "second"):
        request = requests.Request("GET", cookie_server + "/x",
                                   headers={"Authorization": f"Bearer {token}"})
        with transport.send(request, (5.0, 5.0)) as answer:
            assert answer.status == 200
            b"".join(answer.chunks)
    assert _CookieSetter.seen == [None, None]


def test_every_client_built_in_the_process_shares_one_pool_per_git_host() -> None:
    def client(api_url: str) -> BitbucketClient:
        settings = Settings(_env_file=None, git_provider="bitbucket",  # type: ignore[call-arg]
                            bitbucket_api_url=api_url, bitbucket_workspace="acme",
                            bitbucket_repository="repo",
                            bitbucket_access_token=SecretStr("token"))
        host = build_git_host(settings, NullRecorder())
        assert isinstance(host, BitbucketClient)
        return host

    first, second = client("http://127.0.0.1:1/2.0"), client("http://127.0.0.1:1/2.0")
    other = client("http://127.0.0.2:1/2.0")
    assert first.http.transport is second.http.transport
    assert other.http.transport is not first.http.transport
