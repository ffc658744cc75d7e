"""The main-job demo: local broker, a worker process and a short built-in feed.

It prints on the terminal what comes out of the worker, then stops the worker
and the broker it started (a broker that was already running is left running).
"""

from __future__ import annotations

import asyncio
import os
import random
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


def run_demo(settings: Settings, *, beds: int, seconds: int) -> int:
    broker = LocalKafka()
    started_broker = False
    if settings.kafka_bootstrap_servers == _LOCAL_DEFAULT:
        print("starting the local Apache Kafka broker (first run fetches it with Maven)...")
        started_broker = broker.start()
    worker: subprocess.Popen[bytes] | None = None
    try:
        asyncio.run(ensure_topics(settings))
        print("starting the vasowatch worker...")
        worker = subprocess.Popen(
            [sys.executable, "-m", "stream_app", "worker"],
            env={**os.environ, "VASOWATCH_LOG_LEVEL": "WARNING"},
        )
        shown = asyncio.run(_feed_and_show(settings, beds=beds, seconds=seconds))
        print(f"demo done: {shown} outputs shown")
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


def _demo_feed(beds: int, seconds: int, start_ms: int) -> list[tuple[str, bytes, bytes]]:
    """A repeatable feed: each bed's MAP drifts around 60-75 mmHg, one pump per bed."""
    rng = random.Random(7)
    messages: list[tuple[str, bytes, bytes]] = []
    for n in range(beds):
        bed = f"demo-{n + 1:02d}"
        messages.append(
            (
                "infusion",
                bed.encode(),
                orjson.dumps(
                    {
                        "bed_id": bed,
                        "ts": start_ms,
                        "pump_id": "pump-1",
                        "drug": "norepinephrine",
                        "status": "running",
                        "rate": 8 + 2 * n,
                        "rate_unit": "mcg/min",
                    }
                ),
            )
        )
        map_mmhg = 62.0 + 3 * n
        for second in range(seconds):
            map_mmhg += rng.uniform(-1.0, 1.0)
            messages.append(
                (
                    "arterial",
                    bed.encode(),
                    orjson.dumps(
                        {
                            "bed_id": bed,
                            "ts": start_ms + second * 1000,
                            "map": round(map_mmhg, 1),
                        }
                    ),
                )
            )
    return messages


async def _feed_and_show(settings: Settings, *, beds: int, seconds: int) -> int:
    consumer = AIOKafkaConsumer(
        settings.topic_bed_state,
        settings.topic_alerts,
        **client_options(settings),
        auto_offset_reset="latest",
        enable_auto_commit=False,
    )
    await consumer.start()
    producer = AIOKafkaProducer(**client_options(settings), acks="all")
    await producer.start()
    try:
        # Position at the end first, so a second demo run shows only its own outputs.
        await consumer.seek_to_end()
        for partition in consumer.assignment():
            await consumer.position(partition)
        start_ms = int(time.time() * 1000) - seconds * 1000
        topics = {"arterial": settings.topic_arterial, "infusion": settings.topic_infusions}
        feed = _demo_feed(beds, seconds, start_ms)
        for kind, key, value in feed:
            await producer.send(topics[kind], key=key, value=value)
        await producer.flush()
        print(f"produced {len(feed)} events for {beds} beds; waiting for the worker's output...")
        return await _show(consumer, expected_per_bed=seconds + 1, beds=beds)
    finally:
        await producer.stop()
        await consumer.stop()


async def _show(consumer: AIOKafkaConsumer, *, expected_per_bed: int, beds: int) -> int:
    shown = 0
    complete: set[bytes] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(complete) < beds:
        batch = await consumer.getmany(timeout_ms=1000)
        for records in batch.values():
            for record in records:
                body = orjson.loads(record.value)
                shown += 1
                print(f"  {record.topic:<16} {record.key.decode():<10} {_describe(body)}")
                seen = body.get("arterial_samples", 0) + body.get("infusion_events", 0)
                if seen >= expected_per_bed:
                    complete.add(record.key)
    return shown


def _describe(body: dict[str, object]) -> str:
    if "rule_id" in body:
        return f"{body['severity']} {body['rule_id']} {body['status']}: {body['recommendation']}"
    return (
        f"arterial samples {body['arterial_samples']}, pump events {body['infusion_events']}, "
        f"last MAP {body['last_map']} mmHg"
    )
