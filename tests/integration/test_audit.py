"""Audit: a worker starting with a different rule pack than the one behind the newest
alert logs both versions; with the same pack it says so."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest

from stream_app.engine.registry import load_rule_pack
from stream_app.local_kafka import PROJECT_ROOT
from stream_app.settings import Settings
from tests.integration.conftest import WorkerProcess
from tests.integration.kafka_io import produce, run, wait_ready

pytestmark = pytest.mark.kafka


def log_entries(worker: WorkerProcess) -> list[dict[str, object]]:
    out = []
    for line in worker.log_text().splitlines():
        try:
            out.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            continue
    return out


def test_changed_rule_pack_is_logged_with_old_and_new_version(
    worker_settings: Settings, start_worker: Callable[..., WorkerProcess]
) -> None:
    s = worker_settings
    version = load_rule_pack(PROJECT_ROOT / "rules").version
    older = {
        "bed_id": "b1",
        "rule_id": "dopamine_use",
        "status": "firing",
        "emitted_at": "2026-11-01T08:00:00.000Z",
        "rulepack_version": "0000older0000",
    }
    newest = {**older, "emitted_at": "2026-11-02T08:00:00.000Z", "rulepack_version": "1111prev1111"}
    run(
        produce(
            s.kafka_bootstrap_servers,
            s.topic_alerts,
            [(b"b1", orjson.dumps(older)), (b"b2", orjson.dumps(newest))],
        )
    )
    worker = start_worker()
    assert wait_ready(s.web_port), worker.log_text()[-3000:]
    changed = [
        e
        for e in log_entries(worker)
        if e.get("message") == "rule pack changed since the last alert"
    ]
    assert changed, worker.log_text()[-3000:]
    assert changed[0]["rulepack_old_version"] == "1111prev1111"
    assert changed[0]["rulepack_new_version"] == version
    worker.stop()

    run(
        produce(
            s.kafka_bootstrap_servers,
            s.topic_alerts,
            [
                (
                    b"b3",
                    orjson.dumps(
                        {
                            **newest,
                            "emitted_at": "2026-11-03T08:00:00.000Z",
                            "rulepack_version": version,
                        }
                    ),
                )
            ],
        )
    )
    again = start_worker()
    assert wait_ready(s.web_port), again.log_text()[-3000:]
    messages = [e.get("message") for e in log_entries(again)]
    assert "rule pack unchanged since the last alert" in messages
