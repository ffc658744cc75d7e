"""End-to-end latency at a fixed offered load: from a probe's produce to its alert's
append on icu.alerts.

Live traffic (one arterial sample per bed per second, event time = now) is paced to
the offered load. Probe beds run epinephrine; a lactate result on such a bed raises
`epinephrine_lactate_caution` at once (no hold time), so the alert's broker timestamp
minus the probe's create timestamp is the whole path: broker, fetch, alignment,
rules, produce.
"""

from __future__ import annotations

import asyncio
import time
from statistics import quantiles

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from stream_app.settings import Settings

SLOT_S = 0.05


async def measure(
    settings: Settings, rate: int, seconds: float = 20, probes: int = 100
) -> dict[str, float]:
    topics = {kind: topic for topic, kind in settings.input_kinds.items()}
    tag = f"l{rate}"
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, linger_ms=2)
    consumer = AIOKafkaConsumer(
        settings.topic_alerts,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,
        auto_offset_reset="latest",
    )
    await producer.start()
    await consumer.start()
    await consumer.seek_to_end()
    sent: dict[str, int] = {}
    latencies: list[float] = []
    collector = asyncio.create_task(_collect(consumer, tag, sent, latencies))
    try:
        now = int(time.time() * 1000)
        for probe in range(probes):
            bed = f"{tag}-probe-{probe}"
            pump = {"bed_id": bed, "ts": now, "pump_id": "e", "drug": "epinephrine",
                    "status": "running", "rate": 0.05, "rate_unit": "mcg/kg/min"}  # fmt: skip
            await producer.send(topics["infusion"], key=bed.encode(), value=orjson.dumps(pump))
        await producer.flush()
        beds = max(1, rate)
        per_slot = rate * SLOT_S
        began = time.perf_counter()
        slots = int(seconds / SLOT_S)
        carry = 0.0
        for slot in range(slots):
            carry += per_slot
            count, carry = int(carry), carry - int(carry)
            ts = int(time.time() * 1000)
            for i in range(count):
                bed = f"{tag}-bed-{(slot * count + i) % beds}"
                sample = b'{"bed_id":"%s","ts":%d,"map":72,"hr":90}' % (bed.encode(), ts)
                await producer.send(topics["arterial"], key=bed.encode(), value=sample)
            if slot % max(1, slots // probes) == 0 and len(sent) < probes:
                bed = f"{tag}-probe-{len(sent)}"
                lactate = {
                    "bed_id": bed,
                    "ts": ts,
                    "code": "lactate",
                    "value": 2.5,
                    "unit": "mmol/L",
                }
                sent[bed] = ts
                await producer.send(
                    topics["observation"],
                    key=bed.encode(),
                    value=orjson.dumps(lactate),
                    timestamp_ms=ts,
                )
            delay = began + (slot + 1) * SLOT_S - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        achieved = rate * seconds / (time.perf_counter() - began)
        await producer.flush()
        deadline = time.monotonic() + 60
        while len(latencies) < len(sent) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
    finally:
        collector.cancel()
        await producer.stop()
        await consumer.stop()
    return _summary(rate, achieved, latencies, len(sent))


async def _collect(
    consumer: AIOKafkaConsumer, tag: str, sent: dict[str, int], out: list[float]
) -> None:
    seen: set[str] = set()
    while True:
        batch = await consumer.getmany(timeout_ms=500)
        for records in batch.values():
            for record in records:
                alert = orjson.loads(record.value or b"{}")
                bed = alert.get("bed_id", "")
                if bed in sent and bed not in seen and alert.get("status") == "firing":
                    seen.add(bed)
                    out.append(record.timestamp - sent[bed])


def _summary(rate: int, achieved: float, latencies: list[float], probes: int) -> dict[str, float]:
    result: dict[str, float] = {
        "offered_events_per_s": rate,
        "achieved_events_per_s": round(achieved),
        "probes": probes,
        "answered": len(latencies),
    }
    if len(latencies) >= 2:
        cuts = quantiles(latencies, n=100, method="inclusive")
        result.update(p50=round(cuts[49], 1), p95=round(cuts[94], 1), p99=round(cuts[98], 1),
                      max=round(max(latencies), 1))  # fmt: skip
    return result
