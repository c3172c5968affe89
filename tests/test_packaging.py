"""Deployment files that this machine cannot run are still checked for what can be checked."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from base.settings import Settings, load_settings
from base.targets import load_targets

ROOT = Path(__file__).resolve().parent.parent


def setting_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names.add(alias.upper() if isinstance(alias, str) else name.upper())
    return names


class TestComposeFile:
    def test_it_parses_and_runs_postgres_prefect_and_the_agent(self) -> None:
        compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        assert {"postgres", "prefect-server", "agent"} <= set(compose["services"])

    def test_prefect_keeps_its_state_in_its_own_database(self) -> None:
        compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        prefect_url = compose["services"]["prefect-server"]["environment"][
            "PREFECT_API_DATABASE_CONNECTION_URL"
        ]
        agent_url = compose["services"]["agent"]["environment"]["DATABASE_URL"]
        assert prefect_url.endswith("/prefect") and agent_url.endswith("/sdb_agent")
        assert "CREATE DATABASE prefect" in (ROOT / "deployments/compose-init.sql").read_text()

    def test_the_agent_is_given_every_setting_of_the_product(self) -> None:
        compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        agent = compose["services"]["agent"]
        given = set(agent["environment"])
        # tokens and secrets refused when empty come from the optional agent.env, never as ""
        assert [f["path"] for f in agent["env_file"]] == ["./agent.env"]
        missing = setting_names() - given - {"SDB_DATA_DIR", "API_TOKEN", "JIRA_WEBHOOK_TOKEN",
                                             "BITBUCKET_WEBHOOK_SECRET"}
        assert missing == set()


def interpolated(value: str, env: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?message}` against `env`."""
    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        if name in env and (env[name] or op != ":-"):
            return env[name]
        if op == ":?":
            raise AssertionError(f"compose refuses to start without {name}: {arg}")
        return arg if op == ":-" else ""
    return re.sub(r"\$\{([A-Z_]+)(:-|:\?)?([^}]*)\}", one, value)


class TestComposeStartsTheAgent:
    """compose is not installed here: its environment is interpolated as compose does and fed
    to the settings loader, so a value that would stop the agent at start fails here."""

    REQUIRED = {"POSTGRES_PASSWORD": "pw", "JIRA_WEBHOOK_SECRET": "hook-secret"}

    @pytest.mark.parametrize("service", ["agent", "worker"])
    def test_each_agent_service_has_settings_that_load(
        self, service: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        environment = compose["services"][service]["environment"]
        for name in list(os.environ):
            if name.upper() in setting_names() or name.startswith(("SMTP_", "JIRA_")):
                monkeypatch.delenv(name)
        for name, value in environment.items():
            monkeypatch.setenv(name, interpolated(str(value), self.REQUIRED))
        settings = load_settings()
        assert settings.http_host == "0.0.0.0" and settings.jira_webhook_secret is not None

    def test_the_prefect_server_image_is_the_locked_prefect_version(self) -> None:
        compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        locked = re.search(r"^prefect==(\S+)$", (ROOT / "requirements.lock").read_text(), re.M)
        assert locked is not None
        image = compose["services"]["prefect-server"]["image"]
        assert image == f"prefecthq/prefect:{locked.group(1)}-python3.11"

    def test_the_runtime_lock_has_the_same_pins_without_the_test_tools(self) -> None:
        def pins(name: str) -> dict[str, str]:
            return dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / name).read_text(),
                                   re.M))
        runtime, full = pins("requirements-runtime.lock"), pins("requirements.lock")
        assert {name: full.get(name) for name in runtime} == runtime
        assert not {"pytest", "ruff", "mypy", "schemathesis"} & set(runtime)

    def test_the_mounted_targets_file_exists_and_loads(self) -> None:
        assert load_targets(ROOT / "config" / "targets.yaml").targets
        ignored = (ROOT / ".dockerignore").read_text().split()
        assert {".venv/", ".data/", ".git/"} <= set(ignored)


class TestDockerfile:
    def test_it_installs_from_the_lock_file_and_runs_unprivileged(self) -> None:
        dockerfile = (ROOT / "Dockerfile").read_text()
        assert "requirements.lock" in dockerfile
        assert "\nUSER agent" in dockerfile


class TestReadme:
    def test_it_documents_every_setting(self) -> None:
        readme = (ROOT / "README.md").read_text()
        undocumented = {name for name in setting_names() if f"`{name}`" not in readme}
        assert undocumented == set()


class TestPrefectYaml:
    def test_every_deployment_names_a_real_flow_and_serve_has_the_same_names(self) -> None:
        import importlib

        from prefect import Flow

        from base.settings import Settings
        from deployments.maintenance_schedules import maintenance_deployments
        from deployments.serve import process_issue_deployment, revise_pull_request_deployment

        spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
        names = set()
        for deployment in spec["deployments"]:
            module_path, _, attribute = deployment["entrypoint"].partition(":")
            module = importlib.import_module(module_path.removesuffix(".py").replace("/", "."))
            flow = getattr(module, attribute)
            assert isinstance(flow, Flow) and flow.name == deployment["name"]
            names.add(deployment["name"])
        served = [process_issue_deployment(Settings()), revise_pull_request_deployment(Settings()),
                  *maintenance_deployments(settings=Settings())]
        assert names == {d.name for d in served}
        from deployments.ownership import DEPLOYMENT_NAMES
        assert names == set(DEPLOYMENT_NAMES)

    def test_the_compose_worker_deploys_this_file_on_a_process_pool(self) -> None:
        compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        command = compose["services"]["worker"]["command"]
        assert "deploy --all" in command and "--type process" in command
