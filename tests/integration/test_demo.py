"""The main job: broker, worker, board and simulator from one command, alerts in the
terminal within minutes, and Ctrl-C leaving no process behind."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time

import pytest

from stream_app.local_kafka import PROJECT_ROOT
from stream_app.settings import Settings
from tests.integration.conftest import free_port, settings_env

pytestmark = pytest.mark.kafka


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_demo_shows_alerts_and_ctrl_c_stops_everything(worker_settings: Settings) -> None:
    env = settings_env(worker_settings.model_copy(update={"board_port": free_port()}))
    demo = subprocess.Popen(
        [sys.executable, "-m", "stream_app", "demo", "--beds", "6"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert demo.stdout is not None
    lines: list[str] = []
    selector = selectors.DefaultSelector()
    selector.register(demo.stdout, selectors.EVENT_READ)
    started = time.monotonic()
    deadline = started + 240
    while time.monotonic() < deadline and not any(" firing " in line for line in lines):
        if selector.select(timeout=1):
            line = demo.stdout.readline().decode()
            if not line:
                break
            lines.append(line)
    output = "".join(lines)
    children = [int(pid) for pid in re.findall(r"started \w+ \(pid (\d+)", output)]
    try:
        assert any(" firing " in line for line in lines), output
        # The simulator starts with the worker ready; its first alerts come within 3 min.
        assert time.monotonic() - started < 240
        assert len(children) == 3, output  # worker, board, simulator
        assert all(alive(pid) for pid in children)
    finally:
        demo.send_signal(signal.SIGINT)
        rest, _ = demo.communicate(timeout=90)
    output += rest.decode()
    assert demo.returncode == 0, output
    for name in ("simulator", "board", "worker"):
        assert f"stopped {name}" in output
    assert not [pid for pid in children if alive(pid)], output
