"""The main-job demo: local broker, a worker process and a short built-in feed.

The feed gives six beds the last 40 minutes of history (event times in the recent
past), each bed telling one story of the guideline, so the worker raises its
alerts within seconds. Alert transitions are printed as they arrive on the
alerts topic. The worker and a broker the demo started are stopped at the end.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from stream_app.local_kafka import LocalKafka
from stream_app.settings import Settings
from stream_app.stream.connection import client_options
from stream_app.stream.topics import ensure_topics

_LOCAL_DEFAULT = "127.0.0.1:9092"
MINUTE_MS = 60_000


def run_demo(settings: Settings, *, seconds: int) -> int:
    broker = LocalKafka()
    started_broker = False
    if settings.kafka_bootstrap_servers == _LOCAL_DEFAULT:
        print("starting the local Apache Kafka broker (the first run fetches it with Maven)...")
        started_broker = broker.start()
    worker: subprocess.Popen[bytes] | None = None
    try:
        asyncio.run(ensure_topics(settings))
        print("starting the vasowatch worker...")
        worker = subprocess.Popen(
            [sys.executable, "-m", "stream_app", "worker"],
            env={**os.environ, "VASOWATCH_LOG_LEVEL": "WARNING"},
        )
        shown = asyncio.run(_feed_and_show(settings, seconds=seconds))
        print(f"demo done: {shown} alert transitions shown")
        return 0 if shown else 1
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        if started_broker:
            broker.stop()
            print("local broker stopped")


def demo_feed(run_tag: str, start_ms: int) -> list[tuple[str, str, dict[str, object]]]:
    """(kind, bed, event) for six beds over 40 minutes, ending at ``start_ms + 40 min``."""
    stories = {
        "refractory": (("norepinephrine", 18.0, "mcg/min"), 58.0),
        "vaso-alone": (("vasopressin", 0.03, "units/min"), 70.0),
        "renal-dopa": (("dopamine", 2.0, "mcg/kg/min"), 72.0),
        "too-high": (("norepinephrine", 12.0, "mcg/min"), 95.0),
        "stable": (("norepinephrine", 4.0, "mcg/min"), 72.0),
        "line-lost": (("norepinephrine", 6.0, "mcg/min"), 70.0),
    }
    feed: list[tuple[str, str, dict[str, object]]] = []
    for name, ((drug, rate, unit), map_mmhg) in stories.items():
        bed = f"demo-{run_tag}-{name}"
        base: dict[str, object] = {"bed_id": bed, "encounter_id": f"enc-{run_tag}"}
        pump: dict[str, object] = {
            **base,
            "pump_id": "pump-1",
            "drug": drug,
            "status": "running",
            "rate": rate,
            "rate_unit": unit,
            "weight_kg": 75.0,
            "route": "central",
        }
        feed.append(("infusion", bed, {**pump, "ts": start_ms}))
        minutes = 30 if name == "line-lost" else 40
        for second in range(0, minutes * 60, 10):
            wobble = ((second // 10) % 5 - 2) * 0.5
            sample = {
                "map": map_mmhg + wobble,
                "sbp": map_mmhg + 35,
                "dbp": map_mmhg - 15,
                "hr": 96,
            }
            feed.append(("arterial", bed, {**base, "ts": start_ms + second * 1000, **sample}))
        if name == "line-lost":  # the pump keeps reporting while the arterial line is silent
            feed.append(("infusion", bed, {**pump, "ts": start_ms + 39 * MINUTE_MS}))
    return feed


async def _feed_and_show(settings: Settings, *, seconds: int) -> int:
    consumer = AIOKafkaConsumer(
        settings.topic_alerts,
        **client_options(settings),
        auto_offset_reset="latest",
        enable_auto_commit=False,
    )
    await consumer.start()
    producer = AIOKafkaProducer(**client_options(settings), acks="all", enable_idempotence=True)
    await producer.start()
    try:
        # Position at the end first, so a second demo run shows only its own alerts.
        await consumer.seek_to_end()
        for partition in consumer.assignment():
            await consumer.position(partition)
        run_tag = format(int(time.time()) % 100000, "05d")
        start_ms = int(time.time() * 1000) - 40 * MINUTE_MS
        topics = {"arterial": settings.topic_arterial, "infusion": settings.topic_infusions}
        # A gateway sends in time order; so does the demo.
        feed = sorted(demo_feed(run_tag, start_ms), key=lambda item: int(str(item[2]["ts"])))
        for kind, bed, event in feed:
            await producer.send(topics[kind], key=bed.encode(), value=orjson.dumps(event))
        await producer.flush()
        print(f"produced {len(feed)} events (40 min of history for 6 beds); alerts:")
        return await _show(consumer, run_tag, seconds)
    finally:
        await producer.stop()
        await consumer.stop()


async def _show(consumer: AIOKafkaConsumer, run_tag: str, seconds: int) -> int:
    shown = 0
    deadline = time.monotonic() + seconds
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        batch = await consumer.getmany(timeout_ms=1000)
        for records in batch.values():
            for record in records:
                alert = orjson.loads(record.value)
                if f"-{run_tag}-" not in alert["bed_id"]:
                    continue
                shown += 1
                quiet_since = time.monotonic()
                print(
                    f"  {alert['event_ts'][11:19]}  {alert['bed_id']:<24} "
                    f"{alert['severity']:<6} {alert['status']:<9} {alert['rule_id']}: "
                    f"{alert['recommendation']}"
                )
        if shown and time.monotonic() - quiet_since > 8:
            break
    return shown
