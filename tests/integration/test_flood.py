"""A flood of 100,000 junk and random-bed messages: memory stays bounded (beds capped,
the excess dead-lettered as bed_capacity), nothing identifying reaches the logs, and a
real bed in the middle of it still gets its alerts."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable

import orjson
import pytest

from stream_app.settings import Settings
from tests.integration.conftest import WorkerProcess
from tests.integration.kafka_io import metrics, produce, produce_feed, read_until, run, wait_ready
from tests.integration.scenario_feed import input_records, key, replayed
from tests.scenarios.catalogue import FOLDER

pytestmark = pytest.mark.kafka
FLOOD = 100_000
MAX_BEDS = 2_000
NAME = "Quentin Flooder-Smith"


def junk(rng: random.Random, now_ms: int, index: int) -> tuple[bytes, bytes]:
    """Half random bytes and broken JSON carrying a name; half valid samples of new beds."""
    if index % 2:
        bed = f"flood-{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}"
        return bed.encode(), orjson.dumps({"bed_id": bed, "ts": now_ms, "map": 70})
    if index % 4:
        return rng.randbytes(8), rng.randbytes(rng.randrange(1, 200))
    return b"flood", orjson.dumps({"bed_id": "flood", "ts": now_ms, "map": NAME})


def test_flood_is_bounded_and_real_beds_still_alert(
    worker_settings: Settings, start_worker: Callable[..., WorkerProcess]
) -> None:
    s = worker_settings
    worker = start_worker(max_beds=MAX_BEDS, tick_interval_s=1)
    assert wait_ready(s.web_port), worker.log_text()[-3000:]
    time.sleep(2)
    rss_before = metrics(s.web_port)["process_resident_memory_bytes"]
    records = input_records([FOLDER / "vasopressin_above_ceiling.jsonl"])
    topics = {kind: topic for topic, kind in s.input_kinds.items()}
    half = len(records) // 2
    run(produce_feed(s.kafka_bootstrap_servers, topics, records[:half]))
    rng = random.Random(7)
    now = int(time.time() * 1000)
    run(
        produce(
            s.kafka_bootstrap_servers, s.topic_arterial, (junk(rng, now, i) for i in range(FLOOD))
        )
    )
    run(produce_feed(s.kafka_bootstrap_servers, topics, records[half:]))

    expected = set(replayed(records))
    alerts = run(
        read_until(
            s.kafka_bootstrap_servers,
            [s.topic_alerts],
            lambda got: {key(orjson.loads(r.value)) for r in got} >= expected,
            180,
        )
    )
    assert {key(orjson.loads(r.value)) for r in alerts} == expected

    def dead(exported: dict[str, float], reason: str = "") -> float:
        return sum(
            value
            for name, value in exported.items()
            if name.startswith("vasowatch_dead_letters_total") and f'reason="{reason}' in name
        )

    # Every junk message, and every random bed past the cap, ends up dead-lettered.
    deadline = time.monotonic() + 120
    exported = metrics(s.web_port)
    while time.monotonic() < deadline and dead(exported) < FLOOD - MAX_BEDS:
        time.sleep(1)
        exported = metrics(s.web_port)
    assert dead(exported) >= FLOOD - MAX_BEDS, dead(exported)
    assert exported["vasowatch_beds_in_state"] <= MAX_BEDS
    assert dead(exported, "bed_capacity") >= FLOOD / 2 - MAX_BEDS
    assert exported["vasowatch_beds_in_state"] >= MAX_BEDS - 1  # the cap was reached, not missed
    growth = exported["process_resident_memory_bytes"] - rss_before
    assert growth < 200 * 2**20, f"RSS grew by {growth / 2**20:.0f} MiB"
    assert worker.alive()
    log = worker.log_text()
    assert NAME not in log
    # Dead-letter logging is rate-limited: far fewer lines than dead letters.
    assert log.count("dead letter") < 2_000, log.count("dead letter")
