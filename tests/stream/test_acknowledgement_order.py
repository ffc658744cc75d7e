"""The worker acknowledges an input message only once the bed state it produced is on
the broker: Faust commits what was acknowledged, and a commit that overtook the
changelog would let a crash or a rebalance recover a state older than the committed
offsets (the events between them lost). Real processor, engine, aligner and store;
the Faust table and topics are stand-ins whose deliveries the test completes."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import orjson
from prometheus_client import CollectorRegistry

from stream_app.engine.engine import Engine
from stream_app.engine.registry import load_rule_pack
from stream_app.local_kafka import PROJECT_ROOT
from stream_app.metrics import build_metrics
from stream_app.stream.aligner import Aligner
from stream_app.stream.beds import BedStore
from stream_app.stream.blindness import BlindnessWatch
from stream_app.stream.deadletter import DeadLetterPolicy
from stream_app.stream.emitter import AlertEmitter
from stream_app.stream.processor import BatchProcessor

TOPIC = "icu.arterial"


class _Table:
    """What ``BedStore`` uses of a Faust table, and the changelog sender the worker gives
    it (straight to the producer): deliveries wait for the test."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.deliveries: list[asyncio.Future[None]] = []

    async def send(self, partition: int, key: bytes, value: bytes) -> Any:
        delivery: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.deliveries.append(delivery)
        return delivery


class _Topic:
    async def send(self, **_: Any) -> Any:
        delivered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        delivered.set_result(None)
        return delivered


def _message(offset: int, ts_ms: int) -> Any:
    value = orjson.dumps({"bed_id": "b1", "ts": ts_ms, "map": 70.0, "hr": 90})
    return SimpleNamespace(
        topic=TOPIC,
        partition=0,
        tp=(TOPIC, 0),
        source=f"{TOPIC}:0",
        offset=offset,
        key=b"b1",
        value=value,
        append_ms=ts_ms,
    )


def test_messages_are_acknowledged_only_after_their_state_is_on_the_broker() -> None:
    async def scenario() -> None:
        pack = load_rule_pack(PROJECT_ROOT / "rules")
        metrics = build_metrics(CollectorRegistry())
        table = _Table()
        acknowledged: list[int] = []

        def ack(messages: Any) -> None:
            acknowledged.extend(message.offset for message in messages)

        processor = BatchProcessor(
            kinds={TOPIC: "arterial"},
            engine=Engine(pack),
            beds=BedStore(table, table.send),
            emitter=AlertEmitter(_Topic(), pack, metrics),
            deadletters=DeadLetterPolicy(_Topic(), metrics),
            metrics=metrics,
            aligner=Aligner((TOPIC,), idle_ms=0),
            caught_up=lambda *_: True,
            lag=lambda *_: 0,
            ack=ack,
            max_message_bytes=65_536,
            blindness=BlindnessWatch("test", 60_000, pack.version),
        )
        processor.assigned({0})
        start = int(time.time() * 1000) - 60_000
        batch = asyncio.create_task(
            processor.add_batch([_message(i, start + i * 1000) for i in range(3)])
        )
        await asyncio.sleep(0.1)  # the batch runs until it waits for the delivery
        assert len(table.deliveries) == 1  # one bed: one state written for the batch...
        assert acknowledged == []  # ...but not acknowledged while the broker lacks it
        table.deliveries[0].set_result(None)
        await asyncio.wait_for(batch, 5)
        assert acknowledged == [0, 1, 2]

    asyncio.run(scenario())
