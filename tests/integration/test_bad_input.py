"""Bad input against the real broker: every broken message dead-lettered with its reason and
counted, every valid one applied, and the worker still running."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from stream_app.settings import Settings
from tests.integration.conftest import WorkerProcess
from tests.integration.kafka_io import (
    metrics,
    produce,
    produce_feed,
    read_until,
    run,
    wait_ready,
)
from tests.integration.scenario_feed import input_records, key, replayed
from tests.scenarios.catalogue import FOLDER

pytestmark = pytest.mark.kafka


def _broken(now_ms: int) -> list[tuple[str, bytes | None, bytes, str]]:
    """(kind, key, value, expected reason) for every way a gateway can get it wrong."""
    bed = "bad-input-bed"
    art = {"bed_id": bed, "ts": now_ms, "map": 70}
    pump = {
        "bed_id": bed,
        "ts": now_ms,
        "pump_id": "p1",
        "drug": "norepinephrine",
        "status": "running",
        "rate": 5,
        "rate_unit": "mcg/min",
    }
    k = bed.encode()
    return [
        ("arterial", k, b"not json at all", "not_json"),
        ("arterial", k, b'{"bed_id": "bad-input-bed", "ts": 1, "map": NaN}', "non_finite_number"),
        ("arterial", k, orjson.dumps({"bed_id": bed, "ts": now_ms}), "missing_field"),
        ("arterial", k, orjson.dumps({**art, "map": "seventy"}), "wrong_type"),
        ("arterial", k, orjson.dumps({**art, "ts": "2026-03-01T08:00:00"}), "no_timezone"),
        ("arterial", k, orjson.dumps({**art, "ts": now_ms + 3_600_000}), "future_timestamp"),
        ("arterial", b"some-other-bed", orjson.dumps(art), "key_mismatch"),
        ("arterial", k, b"x" * 300_000, "oversized"),
        ("arterial", k, b"", "empty"),
        ("infusion", k, orjson.dumps({**pump, "rate": -5}), "negative_rate"),
        ("infusion", k, orjson.dumps({**pump, "rate_unit": "mcg/hour"}), "unknown_unit"),
        (
            "infusion",
            k,
            orjson.dumps({**pump, "drug": "Vasostrict", "rate_unit": "mcg/kg/min"}),
            "unit_mismatch",
        ),
        (
            "observation",
            k,
            orjson.dumps(
                {"bed_id": bed, "ts": now_ms, "code": "sodium", "value": 140, "unit": "mmol/L"}
            ),
            "unknown_code",
        ),
        ("ack", k, b"[1, 2]", "not_object"),
    ]


def test_broken_messages_are_dead_lettered_counted_and_valid_ones_applied(
    worker_settings: Settings, start_worker: Callable[..., WorkerProcess]
) -> None:
    """A mix of valid scenario records and broken messages of every reason."""
    s = worker_settings
    worker = start_worker()
    assert wait_ready(s.web_port), worker.log_text()[-3000:]
    now = int(time.time() * 1000)
    valid = input_records(
        [FOLDER / "vasopressin_monotherapy.jsonl", FOLDER / "dopamine_use_renal_dose.jsonl"]
    )
    topics = {kind: topic for topic, kind in s.input_kinds.items()}
    broken = _broken(now)
    good = orjson.dumps({"bed_id": "bad-input-bed", "ts": now - 1000, "map": 71})
    bad_element = orjson.dumps({"bed_id": "bad-input-bed", "ts": now, "map": {}})
    batch = (
        b"["
        + b",".join(
            [good, bad_element, orjson.dumps({"bed_id": "bad-input-bed", "ts": now, "map": 72})]
        )
        + b"]"
    )
    run(produce(s.kafka_bootstrap_servers, topics["arterial"], [(b"bad-input-bed", batch)]))
    # Valid records in event-time order as a gateway sends them, the broken ones between.
    half = len(valid) // 2
    run(produce_feed(s.kafka_bootstrap_servers, topics, valid[:half]))
    for kind, bed, value, _ in broken:
        run(produce(s.kafka_bootstrap_servers, topics[kind], [(bed or b"", value)]))
    run(produce_feed(s.kafka_bootstrap_servers, topics, valid[half:]))

    expected_alerts = replayed(valid)
    expected_reasons = Counter((topics[kind], reason) for kind, _, _, reason in broken)
    expected_reasons[(topics["arterial"], "wrong_type")] += 1  # the batch's bad element
    expected_reasons[(topics["ack"], "not_object")] += 1  # [1, 2]: each element on its own

    def done(records: list[Any]) -> bool:
        letters = [r for r in records if r.topic == s.topic_deadletter]
        alerts = {key(orjson.loads(r.value)) for r in records if r.topic == s.topic_alerts}
        return len(letters) >= sum(expected_reasons.values()) and alerts >= set(expected_alerts)

    records = run(
        read_until(s.kafka_bootstrap_servers, [s.topic_deadletter, s.topic_alerts], done, 90)
    )
    letters = [r for r in records if r.topic == s.topic_deadletter]
    got = Counter(
        (
            dict(r.headers)["vasowatch.source.topic"].decode(),
            dict(r.headers)["vasowatch.reason"].decode(),
        )
        for r in letters
    )
    assert got == expected_reasons
    originals = {value for _, _, value, _ in broken}
    elements = {b"1", b"2", bad_element}  # rejected elements of batched messages
    for letter in letters:
        is_element = "vasowatch.element" in dict(letter.headers)
        assert letter.value in (elements if is_element else originals)
    alerts = {key(orjson.loads(r.value)) for r in records if r.topic == s.topic_alerts}
    assert alerts == set(expected_alerts)

    def consumed(exported: dict[str, float]) -> float:
        return sum(
            v for k, v in exported.items() if k.startswith("vasowatch_events_consumed_total")
        )

    # Records after the last alert may still be in flight when the alerts are all in.
    deadline = time.monotonic() + 30
    exported = metrics(s.web_port)
    while consumed(exported) < len(valid) + 2 and time.monotonic() < deadline:
        time.sleep(0.2)
        exported = metrics(s.web_port)
    for (topic, reason), count in expected_reasons.items():
        assert (
            exported[f'vasowatch_dead_letters_total{{reason="{reason}",topic="{topic}"}}'] == count
        )
    assert consumed(exported) == len(valid) + 2  # every valid record, and two batch elements
    assert worker.alive()
