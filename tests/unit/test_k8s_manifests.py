"""The Kubernetes manifests agree with the code: ports, probe paths, setting names, the
rule-pack ConfigMap and the Secret's keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from stream_app.engine.registry import load_rule_pack
from stream_app.local_kafka import PROJECT_ROOT
from stream_app.rules_configmap import CONFIGMAP_NAME, rules_configmap, rules_configmap_yaml
from stream_app.settings import Settings
from stream_app.stream.web import LIVENESS_PATH, METRICS_PATH, READINESS_PATH

K8S = PROJECT_ROOT / "deploy" / "k8s"


def manifest(name: str) -> dict[str, Any]:
    """The first document of a manifest file."""
    loaded: dict[str, Any] = next(yaml.safe_load_all((K8S / name).read_text()))
    return loaded


@pytest.fixture(scope="module")
def pod() -> dict[str, Any]:
    spec: dict[str, Any] = manifest("deployment.yaml")["spec"]["template"]
    return spec


def env_of(pod: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"]}


def test_kustomization_lists_files_that_exist() -> None:
    for resource in manifest("kustomization.yaml")["resources"]:
        assert (K8S / resource).is_file(), resource


def test_every_environment_name_is_a_setting_and_they_validate(pod: dict[str, Any]) -> None:
    secret = manifest("secret.example.yaml")["stringData"]
    env = {**env_of(pod), **secret}
    fields = {f"VASOWATCH_{name.upper()}" for name in Settings.model_fields}
    assert set(env) <= fields, sorted(set(env) - fields)
    settings = Settings(**{k.removeprefix("VASOWATCH_").lower(): v for k, v in env.items()})
    container = pod["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["metrics"] == settings.web_port
    assert settings.web_host == "0.0.0.0"  # the kubelet probes the pod address
    # A stopping worker gets longer than its session timeout to leave the group.
    assert pod["spec"]["terminationGracePeriodSeconds"] > settings.session_timeout_s


def test_probes_use_the_worker_health_paths(pod: dict[str, Any]) -> None:
    container = pod["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == LIVENESS_PATH
    assert container["startupProbe"]["httpGet"]["path"] == LIVENESS_PATH
    assert container["readinessProbe"]["httpGet"]["path"] == READINESS_PATH
    names = {p["name"] for p in container["ports"]}
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] in names
    assert container["resources"]["requests"]["cpu"]
    assert container["resources"]["requests"]["memory"]


def test_rules_and_data_folders_are_mounted_where_settings_point(pod: dict[str, Any]) -> None:
    env = env_of(pod)
    container = pod["spec"]["containers"][0]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert mounts["rules"] == env["VASOWATCH_RULES_DIR"]
    assert volumes["rules"]["configMap"]["name"] == CONFIGMAP_NAME
    assert mounts["data"] == env["VASOWATCH_DATA_DIR"]
    assert "emptyDir" in volumes["data"]
    secret_refs = [s["secretRef"]["name"] for s in container["envFrom"]]
    assert secret_refs == [manifest("secret.example.yaml")["metadata"]["name"]]


def test_service_and_disruption_budget_select_the_worker_pods(pod: dict[str, Any]) -> None:
    labels = pod["metadata"]["labels"]
    service = manifest("service.yaml")
    budget = manifest("pdb.yaml")
    assert service["spec"]["selector"].items() <= labels.items()
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"
    assert service["metadata"]["annotations"]["prometheus.io/path"] == METRICS_PATH
    assert budget["spec"]["maxUnavailable"] == 1


def test_rules_configmap_carries_the_whole_pack(tmp_path: Path) -> None:
    """Written back to a folder, the ConfigMap's files are the same pack (same version)."""
    rules = PROJECT_ROOT / "rules"
    parsed = yaml.safe_load(rules_configmap_yaml(rules))
    assert parsed == rules_configmap(rules)
    assert set(parsed["data"]) == {p.name for p in rules.glob("*.yaml")}
    for name, text in parsed["data"].items():
        (tmp_path / name).write_text(text)
    version = load_rule_pack(rules).version
    assert load_rule_pack(tmp_path).version == version
    assert parsed["metadata"]["annotations"]["vasowatch/rulepack-version"] == version


def test_secure_kafka_settings_point_into_the_mounted_tls_secret(pod: dict[str, Any]) -> None:
    secrets = list(yaml.safe_load_all((K8S / "secret.example.yaml").read_text()))
    settings = Settings(
        **{k.removeprefix("VASOWATCH_").lower(): v for k, v in secrets[0]["stringData"].items()}
    )
    assert settings.kafka_security_protocol == "SASL_SSL"
    assert settings.kafka_sasl_password is not None
    assert "change-me" not in repr(settings)  # secrets never printed
    container = pod["spec"]["containers"][0]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert str(settings.kafka_ssl_cafile).startswith(mounts["kafka-tls"] + "/")
    assert volumes["kafka-tls"]["secret"]["secretName"] == secrets[1]["metadata"]["name"]
    assert "ca.pem" in secrets[1]["stringData"]
