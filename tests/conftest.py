"""Shared fixtures: one real Apache Kafka broker for the whole session, started on demand.

Where the broker comes from, in order: ``VASOWATCH_KAFKA_BOOTSTRAP_SERVERS`` when
set; else testcontainers' Kafka when a Docker engine answers; else the project's
own local broker (``stream_app.local_kafka``) on test ports with its own data.
If none can be had the fixture errors: a broker test is never skipped.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from stream_app.local_kafka import PROJECT_ROOT, LocalKafka


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _docker_engine_answers() -> bool:
    """True when a Docker engine answers ``/_ping`` on its unix socket."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(3)
        try:
            sock.connect(host.removeprefix("unix://"))
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            reply = sock.recv(64)
        except OSError:
            return False
    return reply.startswith(b"HTTP/1.") and b" 200 " in reply


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap address of a real Apache Kafka broker."""
    configured = os.environ.get("VASOWATCH_KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        yield configured
        return
    if _docker_engine_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("apache/kafka:4.1.1").with_kraft() as container:
            yield container.get_bootstrap_server()
        return
    # A broker of the session's own: free ports, an empty data folder, stopped at the end.
    broker = LocalKafka(
        port=_free_port(),
        controller_port=_free_port(),
        state_dir=tmp_path_factory.mktemp("kafka-broker"),
    )
    broker.start()
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


@pytest.fixture
def unique() -> str:
    """A short random suffix, so that tests sharing the broker never share topics or groups."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """A folder under test-output/ for artefacts a person may want to look at."""
    path: Path = PROJECT_ROOT / "test-output" / request.node.name
    path.mkdir(parents=True, exist_ok=True)
    return path
