"""The real batch processor (engine, aligner, bed store, alert and dead-letter policy)
over stand-ins for the Faust table and topics whose changelog deliveries the test
completes itself, and a broker view the test sets (how much input is unread)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
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
from stream_app.stream.state_writes import WritePacing

TOPIC = "icu.arterial"


class HeldDeliveries:
    """Deliveries that wait until the test completes them."""

    def __init__(self) -> None:
        self.deliveries: list[asyncio.Future[None]] = []

    def _new_delivery(self) -> asyncio.Future[None]:
        delivery: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.deliveries.append(delivery)
        return delivery

    def deliver_all(self) -> None:
        for delivery in self.deliveries:
            if not delivery.done():
                delivery.set_result(None)


class ChangelogTable(HeldDeliveries):
    """What ``BedStore`` uses of a Faust table, and the changelog sender the worker gives
    it (straight to the producer): each delivery waits until the test completes it."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[bytes, bytes] = {}
        self.sent: list[bytes] = []  # keys, in the order their states were sent
        self.values: list[bytes] = []  # and the states sent
        self.deleted: list[bytes] = []
        # Set to a cleared event: the producer is full, and each send waits until the
        # test sets it (as aiokafka waits for a full batch to go to the broker).
        self.producer_room: asyncio.Event | None = None

    async def send(self, partition: int, key: bytes, value: bytes) -> Any:
        if self.producer_room is not None:
            await self.producer_room.wait()
        self.sent.append(key)
        self.values.append(value)
        return self._new_delivery()

    def send_changelog(self, partition: int, key: bytes, value: Any, **_: Any) -> None:
        self.deleted.append(key)


class DeliveredTopic:
    async def send(self, **_: Any) -> Any:
        delivered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        delivered.set_result(None)
        return delivered


class HeldTopic(HeldDeliveries):
    """A topic whose deliveries wait until the test completes them."""

    async def send(self, **_: Any) -> Any:
        return self._new_delivery()


def message(offset: int, ts_ms: int, bed: str = "b1", partition: int = 0) -> Any:
    """An arterial message as the intake hands it over (``InputMessage``'s fields)."""
    value = orjson.dumps({"bed_id": bed, "ts": ts_ms, "map": 70.0, "hr": 90})
    return junk(offset, bed, partition, value)


def junk(offset: int, bed: str = "b1", partition: int = 0, value: bytes = b"{not json") -> Any:
    return SimpleNamespace(
        topic=TOPIC,
        partition=partition,
        tp=(TOPIC, partition),
        source=f"{TOPIC}:{partition}",
        offset=offset,
        key=bed.encode(),
        value=value,
        append_ms=None,
        acked=False,
    )


def minute_ago_ms() -> int:
    return int(time.time() * 1000) - 60_000


@dataclass
class Harness:
    processor: BatchProcessor
    table: ChangelogTable
    beds: BedStore
    acknowledged: list[int] = field(default_factory=list)
    unread: dict[str, int] = field(default_factory=lambda: {"messages": 0})
    dead_letters: HeldTopic | None = None


def harness(state_write_interval_s: float = 0.0, *, hold_dead_letters: bool = False) -> Harness:
    """``hold_dead_letters``: dead letters are delivered when the test says so."""
    pack = load_rule_pack(PROJECT_ROOT / "rules")
    metrics = build_metrics(CollectorRegistry())
    table = ChangelogTable()
    beds = BedStore(table, table.send)
    acknowledged: list[int] = []
    unread = {"messages": 0}  # what the broker holds that the worker has not received
    dead_letters = HeldTopic() if hold_dead_letters else None

    def ack(messages: Any) -> None:
        acknowledged.extend(m.offset for m in messages)

    processor = BatchProcessor(
        kinds={TOPIC: "arterial"},
        engine=Engine(pack),
        beds=beds,
        emitter=AlertEmitter(DeliveredTopic(), pack, metrics),
        deadletters=DeadLetterPolicy(dead_letters or DeliveredTopic(), metrics),
        metrics=metrics,
        aligner=Aligner((TOPIC,), idle_ms=0),
        caught_up=lambda *_: True,
        lag=lambda *_: unread["messages"],
        ack=ack,
        max_message_bytes=65_536,
        blindness=BlindnessWatch("test", 60_000, pack.version),
        state_writes=WritePacing(state_write_interval_s),
    )
    processor.assigned({0, 1})
    return Harness(processor, table, beds, acknowledged, unread, dead_letters)
