"""The main job in one command: broker, worker, board and simulator together, with a
live view of alert transitions in the terminal. Ctrl-C (or ``--seconds``) stops
everything the demo started, in reverse order, and leaves no process behind.

Children run in sessions of their own, so a Ctrl-C reaches only the demo, which
then stops them one by one (SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field

import orjson
from aiokafka import AIOKafkaConsumer

from stream_app.exceptions import BrokerUnavailableError
from stream_app.local_kafka import PROJECT_ROOT, LocalKafka
from stream_app.settings import Settings
from stream_app.stream.connection import client_options
from stream_app.stream.topics import ensure_topics

_LOCAL_DEFAULT = "127.0.0.1:9092"
LOGS = PROJECT_ROOT / ".cache" / "demo"


@dataclass
class Children:
    """The processes the demo started, stopped last-started first."""

    started: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        with (LOGS / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "stream_app", *args],
                env={**os.environ, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append((name, process))
        print(f"started {name} (pid {process.pid}, log {LOGS / f'{name}.log'})")

    def stop_all(self) -> None:
        for name, process in reversed(self.started):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            print(f"stopped {name}")
        self.started.clear()

    def failed(self) -> str | None:
        for name, process in self.started:
            if process.poll() is not None:
                return f"{name} exited with code {process.returncode} (see {LOGS / f'{name}.log'})"
        return None


def run_demo(settings: Settings, *, seconds: float | None, beds: int = 24) -> int:
    broker = LocalKafka()
    started_broker = False
    children = Children()
    if settings.kafka_bootstrap_servers == _LOCAL_DEFAULT:
        print("starting the local Apache Kafka broker (the first run fetches it with Maven)...")
        started_broker = broker.start()
        if not started_broker:
            print("a local broker is already running: using it (and leaving it running)")
    try:
        asyncio.run(ensure_topics(settings))
        children.start("worker", "worker", env={"VASOWATCH_LOG_FORMAT": "json"})
        # A personal link for this demo's nurse: acknowledging needs an authenticated user.
        token = secrets.token_urlsafe(18)
        children.start("board", "board", env={"VASOWATCH_BOARD_USERS": f"demo-nurse:{token}"})
        board = f"http://{settings.board_host}:{settings.board_port}/"
        print(f"nurse-station board: {board}#token={token}")
        _wait_ready(settings, children)
        children.start("simulator", "simulate", "--beds", str(beds))
        print(f"simulating {beds} beds in real time; first alerts within about 3 minutes.")
        print("Ctrl-C stops everything.\n")
        shown = asyncio.run(_show_alerts(settings, children, seconds))
        print(f"\n{shown} alert transitions shown")
        return 0
    except KeyboardInterrupt:
        print("\nstopping...")
        return 0
    finally:
        # A second Ctrl-C while stopping must not leave children behind.
        with _ignoring_sigint():
            children.stop_all()
            if started_broker:
                broker.stop()
                print("stopped the local broker")


@contextlib.contextmanager
def _ignoring_sigint() -> Iterator[None]:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _wait_ready(settings: Settings, children: Children, timeout_s: float = 120) -> None:
    url = f"http://127.0.0.1:{settings.web_port}/health/ready"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        problem = children.failed()
        if problem:
            raise BrokerUnavailableError(problem)
        try:
            with urllib.request.urlopen(url, timeout=2):
                print("worker ready")
                return
        except OSError:
            time.sleep(0.5)
    raise BrokerUnavailableError(f"the worker was not ready within {timeout_s:.0f}s")


async def _show_alerts(settings: Settings, children: Children, seconds: float | None) -> int:
    consumer = AIOKafkaConsumer(
        settings.topic_alerts,
        **client_options(settings),
        group_id=None,
        auto_offset_reset="latest",
        enable_auto_commit=False,
    )
    await consumer.start()
    shown = 0
    deadline = None if seconds is None else time.monotonic() + seconds
    try:
        # From now on: earlier runs' alerts are on the board, not in this view.
        await consumer.seek_to_end()
        while deadline is None or time.monotonic() < deadline:
            problem = children.failed()
            if problem:
                raise BrokerUnavailableError(problem)
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                for record in records:
                    print(_line(orjson.loads(record.value)), flush=True)
                    shown += 1
    finally:
        await consumer.stop()
    return shown


def _line(alert: dict[str, object]) -> str:
    at = str(alert.get("emitted_at", ""))[11:19]
    severity = str(alert.get("severity", "")).upper()
    status = str(alert.get("status", ""))
    text = alert.get("recommendation") if status == "firing" else alert.get("title")
    return (
        f"{at}  {alert.get('bed_id')!s:<10} {severity:<6} {status:<12} "
        f"{alert.get('rule_id')}: {text}"
    )
