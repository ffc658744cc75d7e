"""Fixtures for tests against the real broker: isolated topic sets and worker processes."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic import SecretStr

from stream_app.local_kafka import PROJECT_ROOT
from stream_app.settings import Settings, suffixed_topics
from stream_app.stream.topics import ensure_topics


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class WorkerProcess:
    """A real ``vasowatch worker`` in a subprocess, with its output kept in a log file."""

    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None)
    command: str = "worker"

    def start(self) -> WorkerProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "stream_app", self.command],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
        log.close()
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 20.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def worker_settings(kafka_bootstrap: str, unique: str, tmp_path: Path) -> Settings:
    """Settings with this test's own app id, topics and ports on the shared broker."""
    values: dict[str, object] = dict(suffixed_topics(unique))
    settings = Settings(
        kafka_bootstrap_servers=kafka_bootstrap,
        app_id=f"vasowatch-test-{unique}",
        topic_partitions=4,
        web_port=free_port(),
        data_dir=tmp_path / "worker",
        log_format="json",
        # Clinical comparisons must not see the worker's own blindness alerts; the
        # test of those sets a short silence itself.
        partition_silence_s=86_400,
        **values,  # type: ignore[arg-type]
    )
    asyncio.run(ensure_topics(settings))
    return settings


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a subprocess build exactly these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VASOWATCH_")}
    for name, value in settings.model_dump(exclude_none=True).items():
        secret = value.get_secret_value() if isinstance(value, SecretStr) else value
        env[f"VASOWATCH_{name.upper()}"] = str(secret)
    return env


@pytest.fixture
def start_worker(
    worker_settings: Settings, tmp_path: Path
) -> Iterator[Callable[..., WorkerProcess]]:
    """Factory: start a worker with the test's settings (optionally overridden)."""
    started: list[WorkerProcess] = []

    def factory(**overrides: object) -> WorkerProcess:
        settings = worker_settings.model_copy(update=overrides)
        log_path = tmp_path / f"worker-{len(started)}-{time.monotonic_ns()}.log"
        worker = WorkerProcess(settings_env(settings), log_path).start()
        started.append(worker)
        return worker

    yield factory
    for worker in started:
        if worker.alive():
            worker.stop(signal.SIGKILL)
