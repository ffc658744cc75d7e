"""docker-compose.yml cannot run here (no Docker engine), so its wiring is checked by reading it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from stream_app.cli import _build_parser
from stream_app.local_kafka import PROJECT_ROOT
from stream_app.settings import ENV_PREFIX, Settings


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    return loaded


def _vasowatch_env(service: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in service["environment"].items() if k.startswith(ENV_PREFIX)}


def test_compose_has_the_services_of_the_design() -> None:
    """Broker, topic creation, worker, Prometheus and Grafana are all declared."""
    assert set(_compose()["services"]) >= {"kafka", "topics", "worker", "prometheus", "grafana"}


def test_every_vasowatch_variable_in_compose_is_a_setting_and_builds() -> None:
    """A misspelt VASOWATCH_ variable would be rejected at start-up; catch it here first."""
    fields = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    for name in ("topics", "worker"):
        env = _vasowatch_env(_compose()["services"][name])
        assert env, f"{name} sets no VASOWATCH_ variables"
        assert set(env) <= fields, set(env) - fields
        Settings(**{k.removeprefix(ENV_PREFIX).lower(): v for k, v in env.items()})  # type: ignore[arg-type]


def test_worker_port_bootstrap_and_scrape_target_agree() -> None:
    """The published port, the web port setting and Prometheus' target name the same port."""
    services = _compose()["services"]
    env = _vasowatch_env(services["worker"])
    web_port = env["VASOWATCH_WEB_PORT"]
    assert f"{web_port}:{web_port}" in services["worker"]["ports"]
    prometheus = yaml.safe_load((PROJECT_ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets = [
        t
        for job in prometheus["scrape_configs"]
        for sc in job["static_configs"]
        for t in sc["targets"]
    ]
    assert f"worker:{web_port}" in targets
    host, port = env["VASOWATCH_KAFKA_BOOTSTRAP_SERVERS"].split(":")
    kafka_env = services["kafka"]["environment"]
    assert f"PLAINTEXT://{host}:{port}" in kafka_env["KAFKA_ADVERTISED_LISTENERS"]
    assert kafka_env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_commands_and_mounted_folders_exist() -> None:
    """Service commands are real CLI sub-commands and mounted folders are in deploy/."""
    parser = _build_parser()
    for service in _compose()["services"].values():
        if "build" in service:
            parser.parse_args(service["command"])
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert (PROJECT_ROOT / Path(source)).is_dir(), source


def test_secure_override_uses_settings_and_mounts_what_it_names() -> None:
    """docker-compose.secure.yml: real setting names, TLS files inside the mounted folder,
    and a broker listener that requires client certificates."""
    secure = yaml.safe_load((PROJECT_ROOT / "docker-compose.secure.yml").read_text())
    worker = secure["services"]["worker"]
    env = _vasowatch_env(worker)
    fields = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    assert set(env) <= fields, set(env) - fields
    base_env = _vasowatch_env(_compose()["services"]["worker"])
    settings = Settings(
        **{k.removeprefix(ENV_PREFIX).lower(): v for k, v in {**base_env, **env}.items()}  # type: ignore[arg-type]
    )
    assert settings.kafka_security_protocol == "SSL"
    mount = worker["volumes"][0].split(":")[1]
    for path in (
        settings.kafka_ssl_cafile,
        settings.kafka_ssl_certfile,
        settings.kafka_ssl_keyfile,
    ):
        assert str(path).startswith(mount + "/"), path
    kafka = secure["services"]["kafka"]["environment"]
    assert kafka["KAFKA_SSL_CLIENT_AUTH"] == "required"
    host, port = settings.kafka_bootstrap_servers.split(":")
    assert f"SSL://{host}:{port}" in kafka["KAFKA_ADVERTISED_LISTENERS"]
    assert (PROJECT_ROOT / "deploy/kafka/make-dev-certs.sh").is_file()
