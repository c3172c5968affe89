"""`make ui-check`: what a person sees in the Prefect UI and on `/docs`, in a real browser.

It runs three issues through the real flow in a scratch data directory (`.data/ui-check/state`:
embedded PostgreSQL, local Prefect server, local git host, canned model answers): the demo
issue, one whose every edit is unusable (Failed) and one where one file of three is (Partial).
Then it serves the HTTP app and drives the Debian `chromium` headless with Playwright over the
Prefect UI and Swagger UI, asserting the text a person reads, and saves each page as a
screenshot in `.data/ui-check/`. Not part of `make test`: it needs the browser.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

if TYPE_CHECKING:
    from flows.run_result import RunResult

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / ".data" / "ui-check"
CHROMIUM = os.environ.get("UI_CHECK_CHROMIUM", "/usr/bin/chromium")
PAGE_SECONDS = 30
UNUSABLE = {"edits": [{"search": "this text is not in the file\n", "replace": "x\n"}],
            "summary": "An edit the file cannot take."}


@dataclass
class Run:
    label: str
    issue_key: str
    result: RunResult
    flow_run_id: str


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _fresh_state() -> None:
    """A scratch data directory for this check only, so its runs are the only ones shown."""
    state = OUT / "state"
    if state.exists():
        _settle_runtime(state)
        _stop_local_prefect()
        shutil.rmtree(state)
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    _settle_runtime(state)


def _settle_runtime(state: Path) -> None:
    """This check's settings: the scratch data directory, the embedded database, the local
    Prefect server, no API token."""
    from base.settings import Settings
    from tasks.runtime import Runtime, install_runtime

    for name in ("PREFECT_API_URL", "DATABASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL",
                 "API_TOKEN"):
        os.environ.pop(name, None)
    previous = install_runtime(Runtime(Settings.from_values({"SDB_DATA_DIR": str(state)})))
    if previous is not None:
        previous.close()


def _stop_local_prefect() -> None:
    """The previous check's servers, before their directory goes."""
    from db.session import embedded_server
    from deployments.local_prefect import local_prefect_server
    from tasks.runtime import current_runtime

    settings = current_runtime().settings
    local_prefect_server(settings).stop()
    embedded_server(settings).stop()


def _issue(key: str) -> dict[str, Any]:
    payload = json.loads((ROOT / "examples" / "demo-issue.json").read_text(encoding="utf-8"))
    issue = copy.deepcopy(payload)
    issue["issue"]["key"] = key
    return dict(issue)


@contextmanager
def _model(file_edits: Callable[[str, dict[str, Any]], dict[str, Any]]) -> Iterator[None]:
    """The OpenAI stand-in answering the canned spec and `file_edits(path, canned)` per file."""
    from standins.openai_server import OpenAIStandin
    from tasks.runtime import Runtime, current_runtime, using_runtime

    canned = json.loads((ROOT / "examples" / "canned-responses.json").read_text("utf-8"))
    with OpenAIStandin() as standin:
        standin.script("issue_spec", canned["issue_spec"])
        for path, reply in canned["file_edits"].items():
            standin.script("file_edits", file_edits(path, reply), path=path)
        runtime = current_runtime()
        settings = runtime.settings.model_copy(update={
            "git_provider": "local", "targets_file": ROOT / "examples" / "targets.yaml",
            "local_repo_path": (runtime.settings.data_dir / "demo" / "repo").resolve(),
            "openai_base_url": standin.base_url,
            "openai_api_key": SecretStr("canned-answers-for-the-ui-check"),
            # no answer cache: the demo's good answers would be reused for the same files
            "llm_cache_ttl_hours": 0})
        with using_runtime(Runtime(settings, engine=runtime.engine)):
            yield


def _flow_run_of(issue_key: str) -> str:
    from sqlalchemy import text

    from tasks.runtime import current_runtime

    with current_runtime().engine.connect() as conn:
        return str(conn.execute(text(
            "SELECT flow_run_id FROM issue_processing_history WHERE issue_key = :key "
            "ORDER BY id DESC LIMIT 1"), {"key": issue_key}).scalar_one())


def make_runs() -> list[Run]:
    from cli.demo import run_demo
    from cli.runner import run_issue_now

    say("== the demo")
    demo = run_demo(echo=lambda line: say(f"   {line}"))
    runs = [Run("demo", "MAT-101", demo, _flow_run_of("MAT-101"))]
    plans: list[tuple[str, str, Callable[[str, dict[str, Any]], dict[str, Any]]]] = [
        ("failing", "MAT-901", lambda path, reply: UNUSABLE),
        ("partial", "MAT-902",
         lambda path, reply: UNUSABLE if path == "python/materials.py" else reply),
    ]
    for label, key, answers in plans:
        say(f"== a {label} run ({key})")
        with _model(answers):
            result = run_issue_now(issue=_issue(key), issue_key=None)
        runs.append(Run(label, key, result, _flow_run_of(key)))
        say(f"   outcome: {result['outcome']}, flow run {runs[-1].flow_run_id}")
    return runs


@contextmanager
def http_app() -> Iterator[str]:
    """The webhook and API app on a free loopback port, as `serve` runs it."""
    import uvicorn

    from base.net import free_loopback_port
    from deployments.http.app import create_app

    port = free_loopback_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


class Checks:
    """Each check is a line of output; any failure makes the command exit 1."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def that(self, what: str, holds: bool, seen: str = "") -> None:
        say(f"   {'ok  ' if holds else 'FAIL'} {what}" + ("" if holds else f" (seen: {seen})"))
        if not holds:
            self.failed.append(what)


def _page_text(page: Any, *, wait_for: str) -> str:
    """The page's visible text once `wait_for` is shown (the UI loads its data after render)."""
    from playwright.sync_api import TimeoutError as NotShown

    try:
        page.get_by_text(wait_for, exact=False).first.wait_for(timeout=PAGE_SECONDS * 1000)
    except NotShown:  # the check that reads the text reports what was shown instead
        pass
    return str(page.inner_text("body"))


def _tab(page: Any, name: str, *, wait_for: str) -> str:
    page.get_by_text(name, exact=True).first.click()
    return _page_text(page, wait_for=wait_for)


def _badge_color(page: Any, name: str) -> str:
    """The background colour of the state badge that reads `name` ('' when there is none)."""
    badge = page.locator(".state-badge", has_text=name).first
    if badge.count() == 0:
        return ""
    return str(badge.evaluate("e => getComputedStyle(e).backgroundColor"))


def _reddish(rgb: str) -> bool:
    parts = [int(float(p)) for p in rgb[rgb.find("(") + 1:rgb.find(")")].split(",")[:3]] \
        if "(" in rgb else []
    return len(parts) == 3 and parts[0] > 150 and parts[0] > parts[1] + 40


def check_prefect_ui(page: Any, ui: str, runs: dict[str, Run], checks: Checks) -> None:
    failing, partial, demo = runs["failing"], runs["partial"], runs["demo"]

    say("== Prefect UI: the failing run")
    page.goto(f"{ui}/runs/flow-run/{failing.flow_run_id}")
    body = _page_text(page, wait_for="Failed")
    checks.that("its badge reads Failed", "Failed" in body, body[:300])
    color = _badge_color(page, "Failed")
    checks.that(f"the Failed badge is red ({color})", _reddish(color), color)
    page.screenshot(path=OUT / "failing-run.png", full_page=True)
    details = _tab(page, "Details", wait_for="State Message")
    reason = str(failing.result.get("error") or "")
    checks.that(f"its Details tab gives the reason as the state message ({reason})",
                bool(reason) and f"State Message\n{reason}" in details, details[:600])
    tasks = _tab(page, "Task Runs", wait_for="edit src/MaterialDB.h")
    checks.that("its three edit tasks are listed, each Failed",
                "edit src/MaterialDB.h" in tasks and tasks.count("Failed") >= 3, tasks[:400])
    page.screenshot(path=OUT / "failing-run-tasks.png", full_page=True)

    say("== Prefect UI: the partial run")
    page.goto(f"{ui}/runs/flow-run/{partial.flow_run_id}")
    body = _page_text(page, wait_for="Partial")
    checks.that("its badge reads Partial", "Partial" in body, body[:300])
    page.screenshot(path=OUT / "partial-run.png", full_page=True)
    details = _tab(page, "Details", wait_for="State Message")
    checks.that("its state message names the file not changed",
                "not changed: python/materials.py" in details, details[:600])
    _tab(page, "Artifacts", wait_for="files-mat-902")
    page.get_by_text("files-mat-902", exact=True).first.click()
    table = _page_text(page, wait_for="python/materials.py")
    checks.that("its files table lists the failed file with a reason in words",
                "python/materials.py" in table and "src/MaterialDB.cpp" in table
                and "did not match" in table, table[:800])
    checks.that("and a totals row", "total" in table.lower(), table[:800])
    page.screenshot(path=OUT / "partial-run-files.png", full_page=True)

    say("== Prefect UI: the demo run")
    page.goto(f"{ui}/runs/flow-run/{demo.flow_run_id}")
    body = _page_text(page, wait_for="Completed")
    checks.that("its badge reads Completed", "Completed" in body, body[:300])
    artifacts = _tab(page, "Artifacts", wait_for="pull request")
    checks.that("its artifacts include the pull request link",
                "pull request" in artifacts.lower() and "MAT-101" in artifacts, artifacts[:600])
    page.screenshot(path=OUT / "demo-run-artifacts.png", full_page=True)

    say("== Prefect UI: the runs list")
    page.goto(f"{ui}/runs")
    body = _page_text(page, wait_for="MAT-902")
    for key, state in (("MAT-101", "Completed"), ("MAT-901", "Failed"), ("MAT-902", "Partial")):
        checks.that(f"{key} is listed, and a {state} run with it", key in body and state in body,
                    body[:600])
    page.screenshot(path=OUT / "runs.png", full_page=True)


def check_swagger(page: Any, app: str, checks: Checks) -> None:
    say("== /docs (Swagger UI, assets served by the app)")
    offline: list[str] = []
    page.on("request", lambda request: offline.append(request.url)
            if not request.url.startswith(app) else None)
    page.goto(f"{app}/docs")
    body = _page_text(page, wait_for="/webhooks/jira")
    checks.that("Swagger UI renders the webhook route", "/webhooks/jira" in body, body[:300])
    checks.that("and the history routes", "/history" in body, body[:300])
    checks.that("nothing is fetched from outside the app", not offline, ", ".join(offline))
    page.screenshot(path=OUT / "docs.png", full_page=True)


def main() -> int:
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")  # the checks' lines, not the runs'

    if not Path(CHROMIUM).exists():
        say(f"ui-check: no browser at {CHROMIUM}: apt-get install chromium "
            "(or set UI_CHECK_CHROMIUM)")
        return 1
    _fresh_state()
    runs = {run.label: run for run in make_runs()}
    from deployments.local_prefect import prefect_api_url
    from tasks.runtime import current_runtime

    ui = prefect_api_url(current_runtime().settings).removesuffix("/api")
    checks = Checks()
    with http_app() as app, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"] if os.geteuid() == 0 else [])
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        check_prefect_ui(page, ui, runs, checks)
        check_swagger(browser.new_page(viewport={"width": 1440, "height": 900}), app, checks)
        browser.close()
    say(f"screenshots: {OUT}/*.png; Prefect UI: {ui} (stop it with SDB_DATA_DIR={OUT}/state "
        ".venv/bin/sdb-agent local-prefect stop)")
    if checks.failed:
        say(f"ui-check FAILED: {len(checks.failed)} check(s): {'; '.join(checks.failed)}")
        return 1
    say("ui-check passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
