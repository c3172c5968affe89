"""deploy/kubernetes/ checked offline, since no test here can reach a cluster: the kustomize base
and overlay rendered and validated against Kubernetes' own schemas (kubernetes-validate, strict:
an unknown field is an error), the facts issue 18 asks of them, the work pool's base job
template against Prefect's default, and the Helm values against the charts' keys.

No kustomize binary is available, so `render` is a small kustomize of what the manifests use
and refuses anything else: `resources` (files, directories), `namespace`, `labels` (`pairs` on
metadata.labels only), `images`, `configMapGenerator` (`envs`, `files`, `behavior` create or
merge) under `generatorOptions.disableNameSuffixHash`, and `patches` of JSON 6902 `add` and
`replace` operations with a kind and name target. A manifest using more fails here until the
renderer learns it; what real kustomize does beyond that (hashes, name references, strategic
merges) is not modelled.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import kubernetes_validate
import prefect
import pytest
import yaml
from prefect.server.schemas.actions import validate_base_job_template
from prefect.utilities.templating import apply_values

from base.settings import SECRET_FIELDS
from base.targets import load_targets
from tests.test_packaging import setting_names

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy/kubernetes"
KUSTOMIZATIONS = ("base", "overlays/example")
# The oldest Kubernetes release these manifests are written for, and the newest one whose
# schemas kubernetes-validate ships.
KUBERNETES_VERSIONS = ("1.30", "1.37")
SECRET_ENV = {name.upper() for name in SECRET_FIELDS}
SECRET_LOOKING = re.compile(r"PASSWORD|TOKEN|SECRET|API_KEY|DATABASE_URL|connection-string")
# prefect-kubernetes' `_get_base_job_manifest()`: a job manifest without these is refused.
PREFECT_REQUIRED_POD_SPEC = {"parallelism": 1, "completions": 1, "restartPolicy": "Never"}

Obj = dict[str, Any]


# --- the renderer -----------------------------------------------------------------------------

def render(directory: Path) -> list[Obj]:
    """The objects `kubectl kustomize directory` prints, for the subset in the docstring."""
    spec = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unsupported = set(spec) - {"apiVersion", "kind", "resources", "namespace", "labels",
                               "images", "generatorOptions", "configMapGenerator", "patches"}
    if unsupported:
        raise NotImplementedError(f"{directory}: the test's renderer lacks {sorted(unsupported)}")
    objects: list[Obj] = []
    for entry in spec.get("resources", []):
        path = directory / entry
        objects += render(path) if path.is_dir() else [
            doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    for generator in spec.get("configMapGenerator", []):
        _generate_config_map(directory, spec, generator, objects)
    for patch in spec.get("patches", []):
        _apply_patch(patch, objects)
    for obj in objects:
        metadata = obj["metadata"]
        if "namespace" in spec:
            metadata["namespace"] = spec["namespace"]
        for label in spec.get("labels", []):
            if set(label) != {"pairs"}:
                raise NotImplementedError(f"labels with {sorted(set(label) - {'pairs'})}")
            metadata.setdefault("labels", {}).update(label["pairs"])
        for container in containers(obj):
            for image in spec.get("images", []):
                if set(image) - {"name", "newName", "newTag"}:
                    raise NotImplementedError(f"images with {sorted(image)}")
                if re.split(r"[:@]", container["image"])[0] == image["name"]:
                    container["image"] = f"{image.get('newName', image['name'])}:{image['newTag']}"
    return objects


def _generate_config_map(directory: Path, spec: Obj, generator: Obj, objects: list[Obj]) -> None:
    if not spec.get("generatorOptions", {}).get("disableNameSuffixHash"):
        raise NotImplementedError("hashed generator names")
    if set(generator) - {"name", "behavior", "envs", "files"}:
        raise NotImplementedError(f"configMapGenerator with {sorted(generator)}")
    data: dict[str, str] = {}
    for env_file in generator.get("envs", []):
        for line in (directory / env_file).read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                data[key.strip()] = value
    for file in generator.get("files", []):
        data[Path(file).name] = (directory / file).read_text()
    existing = [obj for obj in objects if obj["kind"] == "ConfigMap"
                and obj["metadata"]["name"] == generator["name"]]
    behavior = generator.get("behavior", "create")
    if behavior == "create" and not existing:
        objects.append({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": generator["name"]}, "data": data})
    elif behavior == "merge" and len(existing) == 1:
        existing[0]["data"].update(data)
    else:
        raise ValueError(f"configMapGenerator {generator['name']}: {behavior} against "
                         f"{len(existing)} existing")


def _apply_patch(patch: Obj, objects: list[Obj]) -> None:
    target = patch["target"]
    if set(patch) != {"target", "patch"} or set(target) != {"kind", "name"}:
        raise NotImplementedError(f"patches other than JSON 6902 by kind and name: {patch}")
    matched = [obj for obj in objects if obj["kind"] == target["kind"]
               and obj["metadata"]["name"] == target["name"]]
    if not matched:
        raise ValueError(f"patch target {target} matches nothing")
    for obj in matched:
        for operation in yaml.safe_load(patch["patch"]):
            *parents, last = operation["path"].lstrip("/").split("/")
            node = obj
            for part in parents:
                node = node[int(part)] if isinstance(node, list) else node[part]
            if operation["op"] not in {"add", "replace"} or isinstance(node, list):
                raise NotImplementedError(f"JSON 6902 {operation}")
            if operation["op"] == "replace" and last not in node:
                raise ValueError(f"replace of the missing {operation['path']}")
            node[last] = operation["value"]


def pod_spec(obj: Obj) -> Obj | None:
    if obj["kind"] in {"Deployment", "StatefulSet", "Job"}:
        return obj["spec"]["template"]["spec"]  # type: ignore[no-any-return]
    return None


def containers(obj: Obj) -> Iterator[Obj]:
    spec = pod_spec(obj)
    if spec is not None:
        yield from spec.get("initContainers", [])
        yield from spec["containers"]


def the(objects: list[Obj], kind: str, name: str) -> Obj:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


@pytest.fixture(scope="module")
def overlay() -> list[Obj]:
    return render(K8S / "overlays/example")


def base_job_template() -> Obj:
    return json.loads((K8S / "work-pool/base-job-template.json").read_text())  # type: ignore[no-any-return]


def prefect_default_template() -> Obj:
    """What `prefect work-pool create --type kubernetes` starts from: the locked Prefect's copy of
    prefect-kubernetes' default base job template (the server's offline collections data)."""
    path = (Path(prefect.__file__).parent
            / "server/api/collections_data/views/aggregate-worker-metadata.json")
    metadata = json.loads(path.read_text())
    return metadata["prefect-kubernetes"]["kubernetes"]["default_base_job_configuration"]  # type: ignore[no-any-return]


def flow_run_job(template: Obj) -> Obj:
    """The Job the worker would create for one flow run: the variables' defaults plus what the
    worker fills in, with `env` turned into a list as prefect-kubernetes does."""
    values = {name: prop["default"] for name, prop in template["variables"]["properties"].items()
              if "default" in prop}
    values |= {"name": "process-issue-abc", "command": "prefect flow-run execute",
               "labels": {"prefect.io/flow-run-id": "abc"},
               "env": {"PREFECT_API_URL": "http://prefect-server:4200/api"}}
    job = apply_values(copy.deepcopy(template["job_configuration"]["job_manifest"]), values)
    container = job["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": k, "value": v} for k, v in container["env"].items()]
    container["args"] = container["args"].split()
    return job  # type: ignore[no-any-return]


def validate(obj: Obj, version: str) -> None:
    kubernetes_validate.validate(obj, version, strict=True)


# --- the tests --------------------------------------------------------------------------------

class TestTheManifestsAreValidKubernetes:
    @pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
    @pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
    def test_every_rendered_object_matches_the_schema_of_its_kind(
            self, kustomization: str, version: str) -> None:
        objects = render(K8S / kustomization)
        assert objects
        for obj in objects:
            validate(obj, version)

    @pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
    def test_a_flow_run_job_from_the_work_pool_template_matches_the_job_schema(
            self, version: str) -> None:
        job = flow_run_job(base_job_template())
        pod = job["spec"]["template"]["spec"]
        # Prefect's own default puts these two Job fields in the pod spec (the API server drops
        # them with a warning) and refuses a template without them: checked, then set aside.
        assert {key: pod.pop(key) for key in PREFECT_REQUIRED_POD_SPEC} == PREFECT_REQUIRED_POD_SPEC
        validate(job, version)

    def test_a_misspelt_field_is_rejected(self, overlay: list[Obj]) -> None:
        broken = copy.deepcopy(the(overlay, "Deployment", "sdb-agent"))
        serve = broken["spec"]["template"]["spec"]["containers"][0]
        serve["readinesProbe"] = serve.pop("readinessProbe")
        with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
            validate(broken, KUBERNETES_VERSIONS[0])

    def test_a_string_where_kubernetes_wants_a_number_is_rejected(
            self, overlay: list[Obj]) -> None:
        broken = copy.deepcopy(the(overlay, "Deployment", "sdb-agent"))
        broken["spec"]["replicas"] = "2"
        with pytest.raises(kubernetes_validate.ValidationError):
            validate(broken, KUBERNETES_VERSIONS[0])

    def test_the_renderer_refuses_a_kustomize_feature_it_does_not_implement(
            self, tmp_path: Path) -> None:
        (tmp_path / "kustomization.yaml").write_text("resources: []\nreplicas: []\n")
        with pytest.raises(NotImplementedError, match="replicas"):
            render(tmp_path)


class TestTheServeDeployment:
    def test_two_replicas_serve_only_the_webhook_and_api(self, overlay: list[Obj]) -> None:
        deployment = the(overlay, "Deployment", "sdb-agent")
        serve = deployment["spec"]["template"]["spec"]["containers"][0]
        assert deployment["spec"]["replicas"] == 2
        assert serve["command"] == ["sdb-agent", "serve"]
        assert {"name": "SERVE_RUNNER", "value": "false"} in serve["env"]

    def test_its_probes_ask_the_apps_health_routes(self, overlay: list[Obj]) -> None:
        from deployments.http.health import router

        serve = the(overlay, "Deployment", "sdb-agent")["spec"]["template"]["spec"][
            "containers"][0]
        assert serve["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert serve["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert {"/readyz", "/healthz"} <= {getattr(route, "path", "") for route in router.routes}
        assert serve["ports"] == [{"name": "http", "containerPort": 8080}]

    def test_its_service_selects_its_pods(self, overlay: list[Obj]) -> None:
        service = the(overlay, "Service", "sdb-agent")
        pod_labels = the(overlay, "Deployment", "sdb-agent")["spec"]["template"]["metadata"][
            "labels"]
        assert service["spec"]["selector"].items() <= pod_labels.items()
        assert service["spec"]["ports"][0]["targetPort"] == "http"

    def test_the_image_is_the_overlays_everywhere(self, overlay: list[Obj]) -> None:
        agent_images = {c["image"] for o in overlay for c in containers(o)
                        if o["metadata"]["name"].startswith("sdb-agent")}
        default = base_job_template()["variables"]["properties"]["image"]["default"]
        assert agent_images == {default}


class TestTheMigration:
    def test_a_job_runs_the_idempotent_upgrade(self, overlay: list[Obj]) -> None:
        from cli.app import db_app

        job = the(overlay, "Job", "sdb-agent-migrate")
        assert job["spec"]["template"]["spec"]["containers"][0]["command"] == [
            "sdb-agent", "db", "upgrade"]
        assert {"upgrade", "current"} <= {c.name for c in db_app.registered_commands}

    @pytest.mark.parametrize(("at_head", "waits"), [(True, False), (False, True)])
    def test_serve_waits_until_the_database_is_at_its_images_head(
            self, overlay: list[Obj], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str], at_head: bool, waits: bool) -> None:
        """The init container's script, run on what `sdb-agent db current` really prints."""
        from cli.app import db_current
        from db import migrate
        from tasks import runtime

        revision = migrate.head_revision() if at_head else "0001_older"
        monkeypatch.setattr(runtime, "current_runtime", lambda: SimpleNamespace(engine=None))
        monkeypatch.setattr(migrate, "check_revision_known", lambda engine: revision)
        db_current()
        printed = capsys.readouterr().out.strip()
        fake = tmp_path / "sdb-agent"
        fake.write_text(f"#!/bin/sh\necho '{printed}'\n")
        fake.chmod(0o755)
        (init,) = the(overlay, "Deployment", "sdb-agent")["spec"]["template"]["spec"][
            "initContainers"]
        assert init["command"][:2] == ["sh", "-c"]
        wait = subprocess.Popen(["sh", "-c", init["command"][2]], stdout=subprocess.DEVNULL,
                                env={"PATH": f"{tmp_path}:/usr/bin:/bin"})
        try:
            wait.wait(timeout=2)
        except subprocess.TimeoutExpired:
            assert waits
        else:
            assert not waits and wait.returncode == 0
        finally:
            wait.kill()
            wait.wait()


class TestNoSecretInAnyManifest:
    def env_entries(self, objects: list[Obj]) -> Iterator[Obj]:
        for obj in objects:
            for container in containers(obj):
                yield from container.get("env", [])

    @pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
    def test_secret_settings_come_only_from_secrets(self, kustomization: str) -> None:
        objects = [*render(K8S / kustomization), flow_run_job(base_job_template())]
        assert "Secret" not in {obj["kind"] for obj in objects}
        for entry in self.env_entries(objects):
            if entry["name"] in SECRET_ENV or SECRET_LOOKING.search(entry["name"]):
                assert set(entry) == {"name", "valueFrom"}, entry
                assert set(entry["valueFrom"]) == {"secretKeyRef"}, entry
        for config_map in (obj for obj in objects if obj["kind"] == "ConfigMap"):
            leaked = {key for key in config_map["data"]
                      if key in SECRET_ENV or SECRET_LOOKING.search(key)}
            assert not leaked, config_map["metadata"]["name"]

    def test_every_agent_pod_reads_the_secret_sdb_agent(self, overlay: list[Obj]) -> None:
        agent = [obj for obj in overlay
                 if obj["metadata"]["name"].startswith("sdb-agent") and pod_spec(obj)]
        assert len(agent) == 2  # serve and the migration
        for obj in [*agent, flow_run_job(base_job_template())]:
            for container in containers(obj):
                assert {"secretRef": {"name": "sdb-agent"}} in container["envFrom"]

    def test_the_secret_example_names_secret_settings_without_values(self) -> None:
        lines = [line.lstrip("# ") for line in (K8S / "secrets.env.example").read_text()
                 .splitlines() if re.fullmatch(r"(# )?[A-Z_]+=.*", line)]
        names = {line.partition("=")[0] for line in lines}
        assert names <= SECRET_ENV and {"DATABASE_URL", "OPENAI_API_KEY"} <= names
        assert all(line.endswith("=") for line in lines)
        assert "*.env" in (K8S / ".gitignore").read_text().splitlines()

    def test_the_helm_values_hold_no_credential(self) -> None:
        for chart in ("prefect-server", "prefect-worker"):
            for path in value_paths(helm_values(chart)):
                assert path.rsplit(".", 1)[-1] not in {"password", "authString",
                                                       "connectionString"}, path


class TestTheSettings:
    def test_the_config_map_holds_only_product_and_prefect_settings(
            self, overlay: list[Obj]) -> None:
        data = the(overlay, "ConfigMap", "sdb-agent-config")["data"]
        unknown = {key for key in data if key not in setting_names()
                   and not key.startswith("PREFECT_") and key != "SDB_AGENT_HOME"}
        assert not unknown
        assert data["REPORT_TIMEZONE"] == "Asia/Seoul"  # the overlay's, merged over the base's

    def test_the_targets_file_is_mounted_where_targets_file_points(
            self, overlay: list[Obj]) -> None:
        targets_file = Path(the(overlay, "ConfigMap", "sdb-agent-config")["data"]["TARGETS_FILE"])
        targets = the(overlay, "ConfigMap", "sdb-agent-targets")["data"]
        assert targets_file.name in targets
        job = flow_run_job(base_job_template())
        for obj in (the(overlay, "Deployment", "sdb-agent"), job):
            spec = obj["spec"]["template"]["spec"]
            (volume,) = [v for v in spec["volumes"]
                         if v.get("configMap", {}).get("name") == "sdb-agent-targets"]
            mounts = {m["name"]: m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
            assert mounts[volume["name"]] == str(targets_file.parent)
        assert load_targets(K8S / "overlays/example/targets.yaml").targets

    def test_the_flow_runs_mount_what_the_overlay_creates(self, overlay: list[Obj]) -> None:
        spec = flow_run_job(base_job_template())["spec"]["template"]["spec"]
        claim = next(v["persistentVolumeClaim"]["claimName"] for v in spec["volumes"]
                     if "persistentVolumeClaim" in v)
        assert the(overlay, "PersistentVolumeClaim", claim)
        config = [ref["configMapRef"]["name"] for ref in spec["containers"][0]["envFrom"]
                  if "configMapRef" in ref]
        assert all(the(overlay, "ConfigMap", name) for name in config)


class TestNoCronJob:
    def test_no_manifest_schedules_anything(self, overlay: list[Obj]) -> None:
        kinds = {obj["kind"] for k in KUSTOMIZATIONS for obj in render(K8S / k)}
        assert "CronJob" not in kinds
        texts = [path.read_text() for path in K8S.rglob("*") if path.is_file()]
        assert not [text for text in texts if re.search(r"kind\W+CronJob", text)]
        assert base_job_template()["job_configuration"]["job_manifest"]["kind"] == "Job"


class TestTheWorkPoolTemplate:
    def test_it_has_the_shape_of_prefects_kubernetes_default(self) -> None:
        ours, default = base_job_template(), prefect_default_template()
        assert set(ours) == {"job_configuration", "variables"}
        assert ours["job_configuration"].keys() == default["job_configuration"].keys()
        for name, prop in default["variables"]["properties"].items():
            assert ours["variables"]["properties"][name].get("type") == prop.get("type"), name
        validate_base_job_template(ours)  # what the Prefect server checks on create

    def test_its_job_manifest_keeps_what_prefect_kubernetes_requires(self) -> None:
        manifest = base_job_template()["job_configuration"]["job_manifest"]
        pod = manifest["spec"]["template"]["spec"]
        assert (manifest["apiVersion"], manifest["kind"]) == ("batch/v1", "Job")
        assert PREFECT_REQUIRED_POD_SPEC.items() <= pod.items()
        assert pod["containers"][0]["name"] == "prefect-job"

    def test_flow_runs_start_in_the_overlays_namespace(self, overlay: list[Obj]) -> None:
        namespace = base_job_template()["variables"]["properties"]["namespace"]["default"]
        assert {obj["metadata"]["namespace"] for obj in overlay} == {namespace}


def helm_values(chart: str) -> Obj:
    return yaml.safe_load((K8S / f"helm/{chart}-values.yaml").read_text())  # type: ignore[no-any-return]


def value_paths(node: Obj, prefix: str = "") -> Iterator[str]:
    for key, value in node.items():
        if isinstance(value, dict) and value:
            yield from value_paths(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


CHART_KEYS = yaml.safe_load((ROOT / "tests/fixtures/prefect_helm_values_keys.yaml").read_text())


def keys_unknown_to(chart: str, values: Obj) -> list[str]:
    known = set(CHART_KEYS[chart])
    free_form = tuple(key[:-1] for key in known if key.endswith(".*"))
    return [path for path in value_paths(values)
            if path not in known and not path.startswith(free_form)]


class TestTheHelmValues:
    @pytest.mark.parametrize("chart", ["prefect-server", "prefect-worker"])
    def test_every_key_is_one_the_chart_defines(self, chart: str) -> None:
        assert keys_unknown_to(chart, helm_values(chart)) == []
        header = (K8S / f"helm/{chart}-values.yaml").read_text()
        assert f"chart {CHART_KEYS['chart_version']}" in header

    def test_a_misspelt_key_is_caught(self) -> None:
        values = helm_values("prefect-worker")
        values["worker"]["config"]["workpool"] = values["worker"]["config"].pop("workPool")
        values["worker"]["podLabels"] = {"free-form": "yes"}
        assert keys_unknown_to("prefect-worker", values) == ["worker.config.workpool"]

    def test_the_worker_polls_prefect_yamls_pool_with_the_template(self) -> None:
        worker = helm_values("prefect-worker")["worker"]
        pools = {d["work_pool"]["name"] for d in
                 yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]}
        assert (worker["config"]["type"], {worker["config"]["workPool"]}) == ("kubernetes", pools)
        set_file = re.search(r"--set-file (\S+)=(\S+)",
                             (K8S / "helm/prefect-worker-values.yaml").read_text())
        assert set_file is not None
        assert set_file[1] in CHART_KEYS["prefect-worker"]
        assert (ROOT / set_file[2]) == K8S / "work-pool/base-job-template.json"

    def test_the_server_keeps_its_state_in_the_external_postgresql(self) -> None:
        values = helm_values("prefect-server")
        assert values["postgresql"]["enabled"] is False
        assert values["externalDatabase"]["existingSecret"]
        assert values["externalDatabase"]["connectionStringSecretKey"]

    def test_the_images_run_the_locked_prefect(self) -> None:
        tags = [helm_values("prefect-server")["global"]["prefect"]["image"]["prefectTag"],
                helm_values("prefect-worker")["worker"]["image"]["prefectTag"]]
        locked = yaml.safe_load((ROOT / "prefect.yaml").read_text())["prefect-version"]
        assert prefect.__version__ == locked
        assert all(tag.startswith(f"{locked}-") for tag in tags)


def test_the_helm_commands_in_the_values_files_name_real_files() -> None:
    """The paths the values files' comments tell an operator to pass exist."""
    for chart in ("prefect-server", "prefect-worker"):
        text = (K8S / f"helm/{chart}-values.yaml").read_text()
        for path in re.findall(r"deploy/kubernetes/\S+\.(?:yaml|json)", text):
            assert (ROOT / path).is_file(), path
