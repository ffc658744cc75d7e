"""Authenticated, encrypted Kafka against the project's own Apache Kafka: a SASL_SSL
listener with SCRAM users made by Kafka's own storage tool, and a mutual-TLS listener,
both with certificates from a throwaway CA this test makes with openssl."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from stream_app.local_kafka import LocalKafka
from stream_app.settings import Settings, suffixed_topics
from stream_app.stream.topics import ensure_topics
from tests.integration.conftest import WorkerProcess, free_port, settings_env
from tests.integration.kafka_io import produce_feed, read_until, run, wait_ready
from tests.integration.scenario_feed import input_records, key, replayed
from tests.scenarios.catalogue import FOLDER

pytestmark = pytest.mark.kafka
USER, PASSWORD = "vasowatch-worker", "correct-horse-battery-staple"


def openssl(folder: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)


def make_ca(folder: Path, name: str) -> None:
    openssl(folder, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", "-subj", f"/CN={name}")  # fmt: skip


def make_cert(folder: Path, ca: str, name: str) -> None:
    (folder / f"{name}.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl(folder, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
            "-out", f"{name}.csr", "-subj", f"/CN={name}")  # fmt: skip
    openssl(folder, "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey",
            f"{ca}.key", "-CAcreateserial", "-days", "2", "-out", f"{name}.crt",
            "-extfile", f"{name}.ext")  # fmt: skip


@dataclass(frozen=True)
class SecureBroker:
    broker: LocalKafka
    sasl_ssl: str
    mutual_tls: str
    certs: Path

    @property
    def plaintext(self) -> str:
        """The test's own door in (producing the feed, reading alerts), not the worker's."""
        return self.broker.bootstrap_servers


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    certs = tmp_path_factory.mktemp("certs")
    make_ca(certs, "ca")
    make_ca(certs, "rogue-ca")
    make_cert(certs, "ca", "broker")
    make_cert(certs, "ca", "client")
    keystore = certs / "broker-keystore.pem"
    keystore.write_text(
        (certs / "broker.key").read_text()
        + (certs / "broker.crt").read_text()
        + (certs / "ca.pem").read_text()
    )
    port, controller, sasl, tls = free_port(), free_port(), free_port(), free_port()
    jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    extra = f"""
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller},SASL_SSL://127.0.0.1:{sasl},SSL://127.0.0.1:{tls}
advertised.listeners=PLAINTEXT://127.0.0.1:{port},SASL_SSL://127.0.0.1:{sasl},SSL://127.0.0.1:{tls}
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config={jaas}
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config={jaas}
ssl.keystore.type=PEM
ssl.keystore.location={keystore}
ssl.truststore.type=PEM
ssl.truststore.location={certs / "ca.pem"}
listener.name.ssl.ssl.client.auth=required
"""
    broker = LocalKafka(
        port=port,
        controller_port=controller,
        state_dir=tmp_path_factory.mktemp("secure-kafka"),
        extra_config=extra,
        scram_users=(
            f"SCRAM-SHA-512=[name={USER},password={PASSWORD}]",
            f"SCRAM-SHA-256=[name={USER},password={PASSWORD}]",
        ),
    )
    broker.start()
    try:
        yield SecureBroker(broker, f"127.0.0.1:{sasl}", f"127.0.0.1:{tls}", certs)
    finally:
        broker.stop()


def settings_for(secure: SecureBroker, tmp_path: Path, **security: object) -> Settings:
    unique = uuid.uuid4().hex[:10]
    topics = suffixed_topics(unique)
    plain = Settings(kafka_bootstrap_servers=secure.plaintext, topic_partitions=2, **topics)  # type: ignore[arg-type]
    asyncio.run(ensure_topics(plain))
    return Settings(
        app_id=f"vasowatch-secure-{unique}",
        topic_partitions=2,
        web_port=free_port(),
        data_dir=tmp_path / "worker",
        log_format="json",
        partition_silence_s=86_400,
        broker_timeout_s=15,
        **topics,  # type: ignore[arg-type]
        **security,  # type: ignore[arg-type]
    )


def worker(settings: Settings, tmp_path: Path) -> WorkerProcess:
    return WorkerProcess(
        settings_env(settings), tmp_path / f"worker-{time.monotonic_ns()}.log"
    ).start()


def alerts_flow(secure: SecureBroker, settings: Settings, tmp_path: Path) -> None:
    """A scenario's alerts come out of a worker that talks to Kafka only through ``settings``."""
    process = worker(settings, tmp_path)
    try:
        assert wait_ready(settings.web_port, 90), process.log_text()[-3000:]
        records = input_records([FOLDER / "vasopressin_above_ceiling.jsonl"])
        topics = {kind: topic for topic, kind in settings.input_kinds.items()}
        run(produce_feed(secure.plaintext, topics, records))
        expected = set(replayed(records))

        def done(got: list) -> bool:  # type: ignore[type-arg]
            return {key(orjson.loads(r.value)) for r in got} >= expected

        got = run(read_until(secure.plaintext, [settings.topic_alerts], done, 60))
        assert {key(orjson.loads(r.value)) for r in got} == expected
    finally:
        process.stop()


def refused(settings: Settings, tmp_path: Path) -> str:
    """The worker's output when it must refuse to start."""
    process = worker(settings, tmp_path)
    assert process.process is not None
    code = process.process.wait(60)
    output = process.log_text()
    assert code != 0, output[-3000:]
    # The one line an operator reads: the worker's own, last.
    return output.strip().splitlines()[-1]


def all_worker_output(tmp_path: Path) -> str:
    return "".join(p.read_text() for p in tmp_path.glob("worker-*.log"))


def sasl(
    secure: SecureBroker,
    *,
    password: str = PASSWORD,
    mechanism: str = "SCRAM-SHA-512",
    ca: str = "ca.pem",
) -> dict[str, object]:
    """Settings for the SASL_SSL listener."""
    return {
        "kafka_bootstrap_servers": secure.sasl_ssl,
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": mechanism,
        "kafka_sasl_username": USER,
        "kafka_sasl_password": password,
        "kafka_ssl_cafile": secure.certs / ca,
    }


def test_sasl_ssl_with_scram_alerts_flow(secure_broker: SecureBroker, tmp_path: Path) -> None:
    settings = settings_for(secure_broker, tmp_path, **sasl(secure_broker))
    alerts_flow(secure_broker, settings, tmp_path)


def test_wrong_password_is_refused_and_never_logged(
    secure_broker: SecureBroker, tmp_path: Path
) -> None:
    wrong = "not-the-password-4711"
    settings = settings_for(
        secure_broker, tmp_path, **sasl(secure_broker, password=wrong, mechanism="SCRAM-SHA-256")
    )
    output = refused(settings, tmp_path)
    assert "authentication failed" in output.lower(), output
    assert wrong not in all_worker_output(tmp_path)


def test_untrusted_broker_certificate_is_refused(
    secure_broker: SecureBroker, tmp_path: Path
) -> None:
    settings = settings_for(secure_broker, tmp_path, **sasl(secure_broker, ca="rogue-ca.pem"))
    output = refused(settings, tmp_path)
    assert "certificate verify failed" in output.lower(), output


def test_mutual_tls_alerts_flow_and_a_client_without_certificate_is_refused(
    secure_broker: SecureBroker, tmp_path: Path
) -> None:
    certs = secure_broker.certs
    settings = settings_for(
        secure_broker,
        tmp_path,
        kafka_bootstrap_servers=secure_broker.mutual_tls,
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=certs / "ca.pem",
        kafka_ssl_certfile=certs / "client.crt",
        kafka_ssl_keyfile=certs / "client.key",
    )
    alerts_flow(secure_broker, settings, tmp_path)
    anonymous = settings.model_copy(update={"kafka_ssl_certfile": None, "kafka_ssl_keyfile": None})
    refused(anonymous, tmp_path)
