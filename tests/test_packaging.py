"""Deployment files that this machine cannot run are still checked for what can be checked."""

from __future__ import annotations

from pathlib import Path

import yaml

from sdb_agent.settings import Settings

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
        # tokens refused when empty come from the optional agent.env, never as ""
        assert [f["path"] for f in agent["env_file"]] == ["./agent.env"]
        missing = setting_names() - given - {"SDB_DATA_DIR", "API_TOKEN", "JIRA_WEBHOOK_TOKEN"}
        assert missing == set()


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

        from deployments.maintenance_schedules import maintenance_deployments
        from deployments.serve import process_issue_deployment
        from sdb_agent.settings import Settings

        spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
        names = set()
        for deployment in spec["deployments"]:
            module_path, _, attribute = deployment["entrypoint"].partition(":")
            module = importlib.import_module(module_path.removesuffix(".py").replace("/", "."))
            flow = getattr(module, attribute)
            assert isinstance(flow, Flow) and flow.name == deployment["name"]
            names.add(deployment["name"])
        served = [process_issue_deployment(Settings()), *maintenance_deployments(
            settings=Settings())]
        assert names == {d.name for d in served}

    def test_the_compose_worker_deploys_this_file_on_a_process_pool(self) -> None:
        compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        command = compose["services"]["worker"]["command"]
        assert "deploy --all" in command and "--type process" in command
