"""One batch of Kafka events: decode, apply per bed, write each touched bed once, emit.

Offsets of a batch are acknowledged by Faust after ``process_batch`` returns, and
Faust flushes the producer before it commits; so bed state, outputs and dead
letters of a batch are on the broker before its offsets can be committed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from stream_app.engine.summary import BedSummary, apply_event
from stream_app.metrics import Metrics
from stream_app.stream.codec import DecodeError, decode
from stream_app.stream.deadletter import DeadLetter, DeadLetterPolicy


class TableBedStore:
    """Bed state in a Faust table, with the changelog partition given explicitly.

    Faust derives a table write's changelog partition from the "current event";
    in a batch that is the batch's last event, not the bed's. Writing the store
    and the changelog ourselves keeps every bed's state in the partition its
    events came from, which is where recovery and rebalancing look for it.
    """

    def __init__(self, table: Any) -> None:
        self._table = table

    def get(self, key: bytes) -> bytes | None:
        value: bytes | None = self._table.data.get(key)
        return value

    def put(self, key: bytes, value: bytes, partition: int) -> None:
        self._table.data[key] = value
        self._table.send_changelog(partition, key, value)


class BatchProcessor:
    def __init__(
        self,
        *,
        kinds: dict[str, str],
        store: TableBedStore,
        bed_state_topic: Any,
        deadletters: DeadLetterPolicy,
        metrics: Metrics,
    ) -> None:
        self._kinds = kinds
        self._store = store
        self._bed_state_topic = bed_state_topic
        self._deadletters = deadletters
        self._metrics = metrics

    async def process_batch(self, events: Sequence[Any]) -> None:
        started = time.perf_counter()
        touched: dict[bytes, tuple[BedSummary, int]] = {}
        pending: list[Any] = []
        for event in events:
            message = event.message
            kind = self._kinds[message.topic]
            try:
                decoded = decode(kind, message.value)
            except DecodeError as exc:
                pending.append(
                    await self._deadletters.reject(
                        DeadLetter(
                            exc.reason,
                            exc.detail,
                            message.topic,
                            message.partition,
                            message.offset,
                            message.key,
                            message.value,
                        )
                    )
                )
                continue
            for item in decoded:
                key = item.bed_id.encode()
                entry = touched.get(key)
                if entry is None:
                    blob = self._store.get(key)
                    summary = BedSummary.from_bytes(blob) if blob else BedSummary(item.bed_id)
                else:
                    summary = entry[0]
                apply_event(summary, kind, item.body, item.ts_ms)
                touched[key] = (summary, message.partition)
                self._metrics.events_consumed.labels(message.topic, kind).inc()
        for key, (summary, partition) in touched.items():
            blob = summary.to_bytes()
            self._store.put(key, blob, partition)
            pending.append(await self._bed_state_topic.send(key=key, value=blob))
        if pending:
            await asyncio.gather(*pending)
        self._metrics.batch_size.observe(len(events))
        self._metrics.batch_seconds.observe(time.perf_counter() - started)
