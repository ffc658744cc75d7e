"""The project's own Apache Kafka broker, for machines without Docker.

Jars come from Maven Central through ``deploy/kafka/pom.xml`` into a git-ignored
cache; storage is formatted for a single KRaft node (``--standalone``) and the
broker runs on loopback with the machine's Java 17. Nothing here imitates Kafka:
it starts the real ``kafka.Kafka`` main class and waits for a real metadata
round-trip before it reports success.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from string import Template

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from stream_app.exceptions import LocalBrokerError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
KAFKA_DEPLOY_DIR = PROJECT_ROOT / "deploy" / "kafka"
KAFKA_VERSION = "4.3.1"
_JAVA_HEAP = ("-Xms256m", "-Xmx768m")
# Brokers started by this process, kept so they can be reaped on stop (and are not
# reported as leaked child processes while they run on purpose).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class LocalKafka:
    """One local broker: its ports and the folder that holds its data, logs and pid."""

    port: int = 9092
    controller_port: int = 9093
    state_dir: Path = PROJECT_ROOT / ".cache" / "kafka-broker"
    libs_dir: Path = PROJECT_ROOT / ".cache" / "kafka" / "libs"
    # Properties appended to the template (later keys win): extra listeners, TLS, SASL.
    extra_config: str = ""
    # SCRAM users created at format time with Kafka's own tool: "SCRAM-SHA-512=[name=u,password=p]".
    scram_users: tuple[str, ...] = ()

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def _pid_file(self) -> Path:
        return self.state_dir / "broker.pid"

    @property
    def _config_file(self) -> Path:
        return self.state_dir / "server.properties"

    @property
    def _data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    # -- jars ----------------------------------------------------------------
    def ensure_jars(self) -> bool:
        """Fetch the Kafka jars once; return True when a download was needed."""
        marker = self.libs_dir / f".complete-{KAFKA_VERSION}"
        if marker.exists():
            return False
        if shutil.which("mvn") is None:
            raise LocalBrokerError("Maven (mvn) is not on PATH; it is needed to fetch Kafka once")
        self.libs_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.libs_dir.glob("*.jar"):
            stale.unlink()
        command = [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(KAFKA_DEPLOY_DIR / "pom.xml"),
            "dependency:copy-dependencies",
            f"-Dkafka.libs.dir={self.libs_dir}",
            f"-Dkafka.version={KAFKA_VERSION}",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = (result.stdout + result.stderr)[-2000:]
            raise LocalBrokerError(f"fetching Kafka {KAFKA_VERSION} with Maven failed:\n{tail}")
        marker.write_text(KAFKA_VERSION + "\n")
        return True

    def _java(self, main_class: str, *args: str) -> list[str]:
        java = shutil.which("java")
        if java is None:
            raise LocalBrokerError("java is not on PATH; Kafka needs Java 17 or newer")
        return [
            java,
            *_JAVA_HEAP,
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={KAFKA_DEPLOY_DIR / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.logs_dir}",
            "-cp",
            str(self.libs_dir / "*"),
            main_class,
            *args,
        ]

    # -- storage -------------------------------------------------------------
    def ensure_formatted(self) -> None:
        """Write the config and format KRaft storage once for this state folder."""
        if (self._data_dir / "meta.properties").exists():
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        template = Template((KAFKA_DEPLOY_DIR / "server.properties.template").read_text())
        self._config_file.write_text(
            template.substitute(
                port=self.port, controller_port=self.controller_port, data_dir=self._data_dir
            )
            + ("\n# Added for this broker\n" + self.extra_config if self.extra_config else "")
        )
        cluster_id = "-"
        while cluster_id.startswith("-"):  # an id starting with "-" reads as an option
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        command = self._java(
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "--cluster-id",
            cluster_id,
            "--config",
            str(self._config_file),
            *(arg for user in self.scram_users for arg in ("--add-scram", user)),
        )
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise LocalBrokerError(f"formatting KRaft storage failed:\n{result.stderr[-2000:]}")

    # -- process -------------------------------------------------------------
    def running_pid(self) -> int | None:
        """The broker's pid when the process from our pid file is alive and is our broker."""
        try:
            pid = int(self._pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except FileNotFoundError:
            return None
        # A pid can be reused by another process after a reboot; check it is ours.
        if "kafka.Kafka" not in cmdline or str(self._config_file) not in cmdline:
            return None
        return pid

    def start(self, timeout_s: float = 90.0) -> bool:
        """Start the broker unless it runs; return True when this call started it.

        Returns only after a metadata request to the broker has been answered.
        """
        if self.running_pid() is not None:
            wait_for_broker(self.bootstrap_servers, timeout_s)
            return False
        for port in (self.port, self.controller_port):
            if _port_open(port):
                raise LocalBrokerError(
                    f"port {port} is taken by another process; stop it or pick other ports"
                )
        self.ensure_jars()
        self.ensure_formatted()
        console = (self.logs_dir / "console.log").open("ab")
        with console:
            process = subprocess.Popen(
                self._java("kafka.Kafka", str(self._config_file)),
                stdout=console,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=self.state_dir,
            )
        _CHILDREN[process.pid] = process
        self._pid_file.write_text(f"{process.pid}\n")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise LocalBrokerError(
                    f"the broker exited with code {process.returncode}; see "
                    f"{self.logs_dir / 'server.log'}:\n{self._log_tail()}"
                )
            if _port_open(self.port):
                break
            time.sleep(0.2)
        wait_for_broker(self.bootstrap_servers, max(1.0, deadline - time.monotonic()))
        return True

    def stop(self, timeout_s: float = 30.0) -> bool:
        """Stop the broker and wait until its process is gone; True when one was running."""
        pid = self.running_pid()
        if pid is None:
            self._pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.2)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.1)
        child = _CHILDREN.pop(pid, None)
        if child is not None:
            child.wait()
        self._pid_file.unlink(missing_ok=True)
        return True

    def status(self) -> str:
        pid = self.running_pid()
        if pid is None:
            return f"stopped (state in {self.state_dir})"
        return f"running, pid {pid}, bootstrap {self.bootstrap_servers}"

    def wipe(self) -> None:
        """Delete the broker's data; only allowed while it is stopped."""
        if self.running_pid() is not None:
            raise LocalBrokerError("refusing to wipe the data of a running broker")
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def _log_tail(self) -> str:
        for name in ("server.log", "console.log"):
            path = self.logs_dir / name
            if path.exists():
                return path.read_text(errors="replace")[-3000:]
        return "(no log)"


def _alive(pid: int) -> bool:
    # A zombie still answers kill(0); reap it when it is our child, else read its state.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for_broker(bootstrap_servers: str, timeout_s: float) -> None:
    """Block until the broker answers a metadata request, or raise ``LocalBrokerError``."""
    try:
        asyncio.run(_metadata_round_trip(bootstrap_servers, timeout_s))
    except TimeoutError:
        raise LocalBrokerError(
            f"no metadata answer from {bootstrap_servers} within {timeout_s:.0f}s"
        ) from None


async def _metadata_round_trip(bootstrap_servers: str, timeout_s: float) -> None:
    async with asyncio.timeout(timeout_s):
        while True:
            admin = AIOKafkaAdminClient(
                bootstrap_servers=bootstrap_servers, request_timeout_ms=5000
            )
            try:
                await admin.start()
                cluster = await admin.describe_cluster()
                if cluster.get("brokers"):
                    return
            except (KafkaError, OSError):
                pass
            finally:
                await admin.close()
            await asyncio.sleep(0.3)
