"""What every benchmark stage needs: a broker, topics, a worker process, its metrics."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from stream_app.settings import Settings, suffixed_topics
from stream_app.stream.topics import ensure_topics


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int | None) -> float:
    """User and system CPU seconds a process has used so far (Linux /proc)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metrics(port: int) -> dict[str, float]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
            text = reply.read().decode()
    except OSError:
        return {}
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def total(exported: dict[str, float], prefix: str) -> float:
    return sum(v for k, v in exported.items() if k.startswith(prefix))


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2):
            return True
    except OSError:
        return False


def bench_settings(bootstrap: str, workdir: Path, name: str, **overrides: object) -> Settings:
    """A topic set and app id of the stage's own on the shared broker."""
    topics = suffixed_topics(name)
    settings = Settings(
        kafka_bootstrap_servers=bootstrap,
        app_id=f"bench-{name}",
        web_port=free_port(),
        data_dir=workdir / name,
        log_level="WARNING",
        log_format="json",
        partition_silence_s=86_400,
        **topics,  # type: ignore[arg-type]
        **overrides,  # type: ignore[arg-type]
    )
    asyncio.run(ensure_topics(settings))
    return settings


@dataclass
class Worker:
    settings: Settings
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        env = {**os.environ}
        for key, value in self.settings.model_dump(exclude_none=True).items():
            env[f"VASOWATCH_{key.upper()}"] = str(value)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "stream_app", "worker"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def wait_ready(self, timeout_s: float = 300) -> float:
        """Seconds until /health/ready answers (state recovered, group joined)."""
        began = time.perf_counter()
        while not ready(self.settings.web_port):
            if self.process is not None and self.process.poll() is not None:
                raise SystemExit(f"worker exited; see {self.log}")
            if time.perf_counter() - began > timeout_s:
                raise SystemExit(f"worker not ready in {timeout_s:.0f} s; see {self.log}")
            time.sleep(0.1)
        return time.perf_counter() - began

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
