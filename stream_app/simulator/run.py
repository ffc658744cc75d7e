"""``vasowatch simulate``: publish the beds' feeds in real time, or write them as replay
JSON Lines. Gateways' rules apply: each bed's records are keyed by bed id and sent in
time order by an idempotent producer."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import IO, Any

import orjson
from aiokafka import AIOKafkaProducer

from stream_app.settings import Settings
from stream_app.simulator.model import MINUTE_MS, BedFeed
from stream_app.simulator.scenarios import scenario_for
from stream_app.stream.connection import client_options


@dataclass(frozen=True)
class Unit:
    beds: int = 24
    rate_hz: float = 1.0
    seed: int = 1
    bed_prefix: str = "bed"


def feeds(unit: Unit, start_ms: int) -> list[BedFeed]:
    return [
        BedFeed(
            f"{unit.bed_prefix}-{index + 1:02d}",
            scenario_for(index),
            start_ms,
            seed=unit.seed * 10_000 + index,
            rate_hz=unit.rate_hz,
        )
        for index in range(unit.beds)
    ]


def merged(beds: list[BedFeed], end_ms: int) -> list[dict[str, Any]]:
    """All beds' records up to ``end_ms``, in event-time order (stable per bed)."""
    records = [record for bed in beds for record in bed.until(end_ms)]
    return sorted(records, key=lambda r: int(r["ts"]))


def write_jsonl(
    unit: Unit, minutes: float, start_ms: int, out: IO[bytes], tick_s: float = 5
) -> int:
    """The feed as replay JSON Lines, with clock ticks every ``tick_s`` as the worker ticks
    (a silent line or a bed without one alerts only through ticks)."""
    end_ms = start_ms + round(minutes * MINUTE_MS)
    records = merged(feeds(unit, start_ms), end_ms)
    step = round(tick_s * 1000)
    ticks = [{"kind": "tick", "ts": ts} for ts in range(start_ms + step, end_ms, step)]
    # Ticks after the records of their instant, as the worker ticks between batches.
    everything = sorted(records + ticks, key=lambda r: (int(r["ts"]), r["kind"] == "tick"))
    for record in everything:
        out.write(orjson.dumps(record) + b"\n")
    return len(records)


async def publish(settings: Settings, unit: Unit, minutes: float | None) -> int:
    """Publish in real time (event time = wall time) until ``minutes`` or cancelled."""
    topics = {kind: topic for topic, kind in settings.input_kinds.items()}
    producer = AIOKafkaProducer(
        **client_options(settings), acks="all", enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    sent = 0
    start_ms = int(time.time() * 1000)
    beds = feeds(unit, start_ms)
    second = 0
    try:
        while minutes is None or second < minutes * 60:
            second += 1
            # Each second's records go out once that second is over: never ahead of time.
            delay = start_ms / 1000 + second - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            for record in merged(beds, start_ms + second * 1000):
                await producer.send(
                    topics[record["kind"]],
                    key=str(record["bed_id"]).encode(),
                    value=orjson.dumps(record),
                )
                sent += 1
            await producer.flush()
    finally:
        await producer.stop()
    return sent
