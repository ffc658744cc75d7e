"""The worker against the real broker: events in, per-bed state out, bad input dead-lettered."""

from __future__ import annotations

import time
from collections.abc import Callable

import orjson
import pytest

from stream_app.settings import Settings
from tests.integration.conftest import WorkerProcess
from tests.integration.kafka_io import json_message, produce, read_until, run

pytestmark = pytest.mark.kafka


def _latest_by_bed(records: list) -> dict[str, dict]:
    latest: dict[str, dict] = {}
    for record in records:
        latest[record.key.decode()] = orjson.loads(record.value)
    return latest


def test_worker_summarises_each_bed_and_recovers_it_after_restart(
    worker_settings: Settings, start_worker: Callable[..., WorkerProcess]
) -> None:
    """Per-bed state is kept in the changelog-backed table and survives a worker restart."""
    s = worker_settings
    worker = start_worker()
    t0 = 1_790_000_000_000
    beds = [f"bed-{n}" for n in range(6)]
    arterial = [
        json_message(b, {"ts": t0 + i * 1000, "map": 60 + i}) for b in beds for i in range(20)
    ]
    pumps = [
        json_message(
            b,
            {
                "ts": t0 + 500,
                "pump_id": "p1",
                "drug": "norepinephrine",
                "status": "running",
                "rate": 5,
                "rate_unit": "mcg/min",
            },
        )
        for b in beds
    ]
    run(produce(s.kafka_bootstrap_servers, s.topic_arterial, arterial))
    run(produce(s.kafka_bootstrap_servers, s.topic_infusions, pumps))

    def all_counted(records: list) -> bool:
        latest = _latest_by_bed(records)
        return len(latest) == len(beds) and all(
            v["arterial_samples"] == 20 and v["infusion_events"] == 1 for v in latest.values()
        )

    records = run(read_until(s.kafka_bootstrap_servers, [s.topic_bed_state], all_counted, 90))
    assert all_counted(records), worker.log_text()[-3000:]
    assert _latest_by_bed(records)["bed-3"]["last_map"] == 79.0
    assert worker.stop() == 0

    restarted = start_worker()
    run(
        produce(
            s.kafka_bootstrap_servers,
            s.topic_arterial,
            [json_message("bed-3", {"ts": t0 + 60_000, "map": 66})],
        )
    )

    def bed3_continued(records: list) -> bool:
        return any(
            r.key == b"bed-3" and orjson.loads(r.value)["arterial_samples"] == 21 for r in records
        )

    records = run(read_until(s.kafka_bootstrap_servers, [s.topic_bed_state], bed3_continued, 90))
    assert bed3_continued(records), restarted.log_text()[-3000:]
    assert restarted.alive()


def test_worker_dead_letters_garbage_and_keeps_going(
    worker_settings: Settings, start_worker: Callable[..., WorkerProcess]
) -> None:
    """A message that is not JSON goes to the dead-letter topic with its bytes and a reason."""
    s = worker_settings
    worker = start_worker()
    junk = b"\xff\x00 not json"
    run(
        produce(
            s.kafka_bootstrap_servers,
            s.topic_arterial,
            [
                (b"bed-9", junk),
                json_message("bed-9", {"ts": int(time.time() * 1000), "map": 70}),
            ],
        )
    )
    records = run(
        read_until(
            s.kafka_bootstrap_servers,
            [s.topic_deadletter, s.topic_bed_state],
            lambda rs: {r.topic for r in rs} == {s.topic_deadletter, s.topic_bed_state},
            90,
        )
    )
    letters = [r for r in records if r.topic == s.topic_deadletter]
    assert len(letters) == 1, worker.log_text()[-3000:]
    assert letters[0].value == junk
    headers = dict(letters[0].headers)
    assert headers["vasowatch.reason"] == b"not_json"
    assert headers["vasowatch.source.topic"] == s.topic_arterial.encode()
    assert any(r.topic == s.topic_bed_state and r.key == b"bed-9" for r in records)
    assert worker.alive()
