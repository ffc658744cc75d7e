"""The project's own broker: idempotent start, a real metadata answer, and a clean stop."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from stream_app.local_kafka import LocalKafka, wait_for_broker
from tests.integration.conftest import free_port

pytestmark = pytest.mark.kafka


def test_start_twice_is_harmless_and_stop_leaves_no_process(tmp_path: Path) -> None:
    """A second start reuses the running broker; stop ends the process and removes the pid."""
    broker = LocalKafka(port=free_port(), controller_port=free_port(), state_dir=tmp_path / "k")
    assert broker.start() is True
    try:
        pid = broker.running_pid()
        assert pid is not None
        began = time.monotonic()
        assert broker.start() is False
        assert time.monotonic() - began < 10
        assert broker.running_pid() == pid
        wait_for_broker(broker.bootstrap_servers, 10)
    finally:
        assert broker.stop() is True
    assert broker.running_pid() is None
    assert not Path(f"/proc/{pid}").exists()
    assert broker.stop() is False
