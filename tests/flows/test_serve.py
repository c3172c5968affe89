"""`sdb-agent serve` as a real process: a signed webhook becomes a PR, and SIGTERM or SIGINT
(even when started with SIGINT ignored, as a script's background job is) stops it cleanly."""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from base.errors import ConfigError
from base.net import free_loopback_port
from tests.flows.agent import Agent, subprocess_env

CLI = str(Path(sys.executable).parent / "sdb-agent")
SECRET = "serve-secret"



def start_serve(
    agent: Agent, tmp_path: Path, *, ignore_sigint: bool
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_loopback_port()
    env = {**subprocess_env(agent), "HTTP_PORT": str(port), "JIRA_WEBHOOK_SECRET": SECRET}
    preexec = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None
    process = subprocess.Popen(
        [CLI, "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "serve.log", "wb"),
        preexec_fn=preexec,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
        try:
            if requests.get(f"{base}/readyz", timeout=2).status_code == 200:
                return process, base
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise AssertionError("serve did not become ready")


def stops_within(process: subprocess.Popen[bytes], sig: int, seconds: float) -> int:
    process.send_signal(sig)
    return process.wait(timeout=seconds)


def test_a_signed_webhook_leads_to_a_pull_request_and_sigterm_stops_serve(
    agent: Agent, tmp_path: Path
) -> None:
    agent.script_canned()
    process, base = start_serve(agent, tmp_path, ignore_sigint=False)
    try:
        body = json.dumps(agent.payload).encode()
        digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        answer = requests.post(
            f"{base}/webhooks/jira",
            data=body,
            timeout=30,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature": f"sha256={digest}",
                "X-Atlassian-Webhook-Identifier": "serve-1",
            },
        )
        assert answer.status_code == 202, answer.text
        def ours() -> list[object]:
            return [pr for pr in agent.bitbucket.pull_requests.values()
                    if pr.title.startswith("MAT-101:")]

        deadline = time.monotonic() + 120
        while not ours() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(ours()) == 1
        run = requests.get(f"{base}/history", timeout=10).json()["items"][0]
        assert run["issue_key"] == "MAT-101"
    finally:
        assert stops_within(process, signal.SIGTERM, 60) == 0


@pytest.mark.parametrize("ignore_sigint", [False, True])
def test_sigint_stops_serve_even_when_started_with_sigint_ignored(
    agent: Agent, tmp_path: Path, ignore_sigint: bool
) -> None:
    process, _ = start_serve(agent, tmp_path, ignore_sigint=ignore_sigint)
    assert stops_within(process, signal.SIGINT, 60) == 0


class TestServeRefusesToStartHalfway:
    def test_a_taken_port_stops_it_with_one_line_and_exit_1(
        self, agent: Agent, tmp_path: Path
    ) -> None:
        with socket.create_server(("127.0.0.1", 0)) as taken:
            port = taken.getsockname()[1]
            env = {**subprocess_env(agent), "HTTP_PORT": str(port), "JIRA_WEBHOOK_SECRET": SECRET}
            done = subprocess.run([CLI, "serve"], env=env, capture_output=True, text=True,
                                  timeout=120)
        assert done.returncode == 1
        assert done.stderr.strip().splitlines()[-1] == (
            f"error: cannot listen on 127.0.0.1:{port} (HTTP_HOST, HTTP_PORT): "
            "Address already in use")

    @pytest.mark.parametrize(("env", "refused"), [
        ({"HTTP_HOST": "0.0.0.0"}, True),
        ({"HTTP_HOST": "0.0.0.0", "WEBHOOK_ALLOW_UNAUTHENTICATED": "true"}, False),
        ({"HTTP_HOST": "127.0.0.1"}, False),
        ({"HTTP_HOST": "0.0.0.0", "JIRA_WEBHOOK_TOKEN": "t0ken"}, False),
    ])
    def test_an_unauthenticated_webhook_is_refused_off_loopback(
        self, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], refused: bool
    ) -> None:
        from base.settings import load_settings
        from deployments.serve import refuse_open_webhook

        for name in ("JIRA_WEBHOOK_SECRET", "JIRA_WEBHOOK_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        if refused:
            with pytest.raises(ConfigError, match="WEBHOOK_ALLOW_UNAUTHENTICATED=true"):
                refuse_open_webhook(load_settings())
        else:
            refuse_open_webhook(load_settings())
