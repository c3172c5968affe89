"""Bearer-token auth of the read API, liveness/readiness, and the OpenAPI document."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from fastapi.testclient import TestClient
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy import Engine

from db import migrate
from tests.api.conftest import build_app
from tests.conftest import ConfiguredRuntime

READ_ROUTES = ("/history", "/history/1", "/stats", "/stats/daily", "/stats/llm-cost",
               "/files/a.cpp/history")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        code = 200 if self.path.endswith("/api/health") else 404
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"true")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def prefect_standin() -> Iterator[str]:
    """An HTTP server that answers GET /api/health like the Prefect API."""
    server = HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api"
    server.shutdown()
    server.server_close()


@pytest.fixture
def no_prefect() -> Iterator[None]:
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        yield


class TestTheBearerToken:
    def test_with_api_token_set_read_routes_want_exactly_that_bearer_token(
        self, client: TestClient, runtime: ConfiguredRuntime
    ) -> None:
        runtime.set(API_TOKEN="s3cret-token")
        for route in READ_ROUTES:
            for headers in ({}, {"Authorization": "Bearer wrong"},
                            {"Authorization": "s3cret-token"}):
                response = client.get(route, headers=headers)
                assert response.status_code == 401, (route, headers)
                assert response.headers["www-authenticate"] == "Bearer"
            good = client.get(route, headers={"Authorization": "Bearer s3cret-token"})
            assert good.status_code in (200, 404), route
        assert client.get("/healthz").status_code == 200

    @pytest.mark.parametrize("scheme", ["bearer", "BEARER", "Bearer"])
    def test_the_scheme_is_case_insensitive(
        self, client: TestClient, runtime: ConfiguredRuntime, scheme: str
    ) -> None:
        runtime.set(API_TOKEN="s3cret-token")
        assert client.get("/stats", headers={"Authorization": f"{scheme} s3cret-token"}
                          ).status_code == 200

    def test_with_api_token_set_the_schema_and_docs_want_it_too(
        self, client: TestClient, runtime: ConfiguredRuntime
    ) -> None:
        runtime.set(API_TOKEN="s3cret-token")
        for route in ("/openapi.json", "/docs"):
            assert client.get(route).status_code == 401, route
            assert client.get(route, headers={"Authorization": "Bearer s3cret-token"}
                              ).status_code == 200, route

    def test_without_api_token_the_read_routes_are_open(self, client: TestClient) -> None:
        assert client.get("/stats").status_code == 200
        assert client.get("/history").status_code == 200


class TestTheDocsPage:
    def test_it_loads_swagger_ui_from_the_app_not_a_cdn(self, client: TestClient) -> None:
        page = client.get("/docs").text
        scripts = re.findall(r'(?:src|href)="([^"]+)"', page)
        assert scripts and all(url.startswith("/") for url in scripts), scripts
        for url in scripts:
            served = client.get(url)
            assert served.status_code == 200 and len(served.content) > 1000, url
        assert client.get("/docs/assets/../../etc/passwd").status_code == 404


class TestHostileReadParameters:
    @pytest.mark.parametrize("route", [
        "/history?issue_key=MAT-1%00", "/history?issue_key=MAT-1%0A", "/files/a%00b.cpp/history",
        "/history?issue_key=" + "A" * 45 + "-12345",
    ])
    def test_text_the_database_cannot_hold_is_422(self, client: TestClient, route: str) -> None:
        assert client.get(route).status_code == 422

    @pytest.mark.parametrize("since", ["2026-11-20T10:00:00-23:59", "2026-11-20T10:00:00+23:59",
                                       "0001-01-01T00:00:00+23:59"])
    def test_any_utc_offset_is_read_or_refused_never_a_500(
        self, client: TestClient, since: str
    ) -> None:
        answer = client.get("/history", params={"since": since})
        assert answer.status_code in (200, 422), answer.text

    def test_a_cursor_with_an_extreme_offset_is_read_as_utc(self, client: TestClient) -> None:
        from db.history_queries import Cursor
        from deployments.http.history import encode_cursor

        cursor = encode_cursor(Cursor(datetime.fromisoformat("2026-11-20T10:00:00-23:59"), 5))
        assert client.get("/history", params={"cursor": cursor}).status_code == 200


class TestStatsParameters:
    @pytest.mark.parametrize("query", ["days=0", "days=10000", "days=-1", "days=x"])
    def test_a_days_window_outside_1_to_365_is_422(
        self, client: TestClient, query: str
    ) -> None:
        for route in ("/stats", "/stats/daily", "/stats/llm-cost"):
            assert client.get(f"{route}?{query}").status_code == 422, route

    def test_the_edges_of_the_window_are_accepted(self, client: TestClient) -> None:
        assert client.get("/stats/daily?days=365").json()["days"] == 365
        assert len(client.get("/stats/daily?days=1").json()["items"]) == 1


class TestLivenessAndReadiness:
    def test_healthz_needs_no_database(self, runtime: ConfiguredRuntime) -> None:
        runtime.set(DATABASE_URL=f"postgresql://x:y@127.0.0.1:{_closed_port()}/z")
        with TestClient(build_app()) as client:
            assert client.get("/healthz").json() == {"status": "ok"}

    def test_ready_with_the_database_at_head_and_prefect_answering(
        self, client: TestClient, prefect_standin: str
    ) -> None:
        with temporary_settings(updates={PREFECT_API_URL: prefect_standin}):
            response = client.get("/readyz")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["ready"] is True
        assert body["checks"]["database"]["detail"].endswith(migrate.head_revision())

    def test_an_unreachable_database_is_503_naming_the_database(
        self, runtime: ConfiguredRuntime, no_prefect: None
    ) -> None:
        runtime.set(DATABASE_URL=f"postgresql://x:pw@127.0.0.1:{_closed_port()}/z")
        with TestClient(build_app()) as client:
            response = client.get("/readyz")
        assert response.status_code == 503
        checks = response.json()["checks"]
        assert checks["database"]["ok"] is False and checks["prefect"]["ok"] is True
        assert "cannot connect" in checks["database"]["detail"]
        assert "pw" not in checks["database"]["detail"]
        assert checks["webhook_backlog"]["ok"] is False
        assert checks["webhook_backlog"]["detail"].startswith("unknown: cannot connect")

    @pytest.mark.parametrize("path", ["/history", "/stats", "/stats/daily?days=7"])
    def test_read_routes_answer_503_while_the_database_is_unreachable(
        self, runtime: ConfiguredRuntime, monkeypatch: pytest.MonkeyPatch, path: str
    ) -> None:
        monkeypatch.delenv("API_TOKEN", raising=False)
        runtime.set(DATABASE_URL=f"postgresql://x:pw@127.0.0.1:{_closed_port()}/z",
                    API_TOKEN=None)
        with TestClient(build_app(), raise_server_exceptions=False) as client:
            response = client.get(path)
        assert response.status_code == 503 and response.headers["Retry-After"] == "10"
        assert "cannot connect" in response.json()["detail"]
        assert ":pw@" not in response.text

    def test_a_schema_behind_head_is_503_and_recovers_after_upgrade(
        self, client: TestClient, engine: Engine, no_prefect: None
    ) -> None:
        migrate.downgrade(engine, "0002")
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "sdb-agent db upgrade" in response.json()["checks"]["database"]["detail"]
        migrate.upgrade(engine)
        assert client.get("/readyz").status_code == 200

    def test_prefect_unreachable_is_named_but_leaves_the_app_ready_to_queue_deliveries(
        self, client: TestClient
    ) -> None:
        with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{_closed_port()}"}):
            response = client.get("/readyz")
        assert response.status_code == 200 and response.json()["ready"] is True
        checks = response.json()["checks"]
        assert checks["prefect"]["ok"] is False and checks["database"]["ok"] is True
        assert checks["prefect"]["required"] is False and "Prefect API" in checks["prefect"][
            "detail"]
        assert checks["webhook_backlog"] == {
            "ok": True, "required": False, "detail": "0 deliveries waiting for their hand-off"}


class TestTheOpenApiDocument:
    def test_lists_every_endpoint_with_one_line_summaries(self, client: TestClient) -> None:
        spec = client.get("/openapi.json").json()
        paths = spec["paths"]
        for path in ("/history", "/history/{history_id}", "/files/{file_path}/history",
                     "/stats", "/stats/daily", "/stats/llm-cost", "/healthz", "/readyz"):
            assert "get" in paths[path], path
            assert "\n" not in paths[path]["get"]["description"]
        assert "Overview" in spec["components"]["schemas"]
        days = next(p for p in paths["/stats/daily"]["get"]["parameters"] if p["name"] == "days")
        assert days["schema"]["minimum"] == 1 and days["schema"]["maximum"] == 365
