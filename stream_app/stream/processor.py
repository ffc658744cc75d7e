"""Decode -> align -> engine -> emit -> persist, one batch at a time.

Order of effects, which is what makes a crash lose nothing and invent nothing:
a batch's alerts and dead letters are sent, and delivered before each touched bed's
state (holding the offsets it has applied) is written, after every batch once
the worker has caught up, at most once per interval while a backlog drains
(``state_writes``); only then are the messages acknowledged for
Faust to commit. After a crash, messages whose offsets a bed's state already
holds are skipped; a transition produced again carries the same ``alert_id``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from stream_app.domain.codec import Rejection, decode_message, decode_plain
from stream_app.engine.engine import Engine
from stream_app.engine.state import BedState
from stream_app.metrics import Metrics
from stream_app.stream.acks import OrderedAcks
from stream_app.stream.aligner import Aligner
from stream_app.stream.beds import BedStore
from stream_app.stream.blindness import BlindnessWatch
from stream_app.stream.deadletter import DeadLetterPolicy
from stream_app.stream.emitter import AlertEmitter
from stream_app.stream.gauges import AlertCensus, publish_partition_positions
from stream_app.stream.input_message import InputMessage, partition_runs
from stream_app.stream.outcomes import Outcomes, wall_ms
from stream_app.stream.state_writes import NO_DEFERRAL, StateWrites, WritePacing

log = logging.getLogger("vasowatch.worker")


class BatchProcessor:
    def __init__(
        self,
        *,
        kinds: dict[str, str],
        engine: Engine,
        beds: BedStore,
        emitter: AlertEmitter,
        deadletters: DeadLetterPolicy,
        metrics: Metrics,
        aligner: Aligner[InputMessage],
        caught_up: Callable[[str, int, int | None, int], bool],
        lag: Callable[[str, int, int | None], int | None],
        ack: Callable[[Sequence[Any]], None],
        max_message_bytes: int,
        blindness: BlindnessWatch,
        max_beds: int = 20_000,
        state_writes: WritePacing = NO_DEFERRAL,
    ) -> None:
        self._kinds = kinds
        self._engine = engine
        self._beds = beds
        self._outcomes = Outcomes(emitter, deadletters, metrics)
        self._metrics = metrics
        self._aligner = aligner
        self._caught_up = caught_up
        self._lag = lag
        self._ack = ack
        self._max_bytes = max_message_bytes
        self._max_beds = max_beds
        self._lock = asyncio.Lock()
        self._owned: set[int] = set()
        self._blindness = blindness
        self._ordered_acks = OrderedAcks(self, ack)
        self._writes = StateWrites(
            state_writes,
            encode=beds.encode,
            send=beds.send,
            ack=ack,
            count=self._count_consumed,
            before_ack=self._ordered_acks.release,
        )
        self._consumed_counters: dict[str, Any] = {}

    # -- intake ---------------------------------------------------------------
    async def add_batch(self, messages: Sequence[InputMessage]) -> None:
        """Take consumed messages; each is acknowledged through ``ack`` once its effects
        are on the broker."""
        now = wall_ms()
        pending: list[Any] = []
        async with self._lock:
            for run in partition_runs(messages):
                if run[0].partition in self._owned:
                    # (Not owned: delivered after the partition was revoked; its new
                    # owner processes it, and acknowledging it here would skip it.)
                    await self._hold(run, now, pending)
            self._writes.after(pending)
            await self._process(self._aligner.release(now, self._caught_up, self._lag))
            await self._writes.land_if_delivered()
            self._ordered_acks.release()
        self._metrics.batch_size.observe(len(messages))

    async def _hold(self, run: Sequence[InputMessage], now: int, pending: list[Any]) -> None:
        """Decode one topic-partition's messages and hand those with events to the aligner."""
        topic, partition = run[0].topic, run[0].partition
        kind, max_bytes = self._kinds[topic], self._max_bytes
        held: list[InputMessage] = []
        for msg in run:
            value, key = msg.value, msg.key
            event = decode_plain(kind, value, key, now, max_bytes)
            if event is not None:
                msg.events, msg.ts, msg.received_ms = (event,), event.ts, now
                held.append(msg)
                continue
            decoded = decode_message(
                kind, value, key=key, check_key=True, now_ms=now, max_bytes=max_bytes
            )
            dead_letters = [
                await self._outcomes.reject(rejection, topic, partition, msg.offset, key)
                for rejection in decoded.rejections
            ]
            pending.extend(dead_letters)
            events = decoded.events
            if events:
                msg.events, msg.ts, msg.received_ms = events, min(e.ts for e in events), now
                held.append(msg)
            else:
                self._ordered_acks.wait(topic, partition, msg.offset, msg, dead_letters)
        self._aligner.add_run(topic, partition, held, run[-1].offset, now)

    async def flush(self) -> None:
        """Release messages held for alignment whose wait is over, and write the bed
        states whose interval is over (called on a timer)."""
        async with self._lock:
            await self._process(self._aligner.release(wall_ms(), self._caught_up, self._lag))
            if self._writes.due(self._backlog):
                await self._writes.send()
            await self._writes.land_if_delivered()
            self._ordered_acks.release()

    async def write_pending(self) -> None:
        """Write every bed state still waiting and acknowledge its messages (on stop)."""
        async with self._lock:
            await self._writes.send(wait=True)
            self._ordered_acks.release()

    def lowest_held(self, topic: str, partition: int) -> int | None:
        """The oldest offset of a topic-partition not yet acknowledgeable: held for
        alignment, or applied and waiting for its bed's state to be written."""
        held = self._aligner.lowest_held(topic, partition)
        waiting = self._writes.lowest(topic, partition)
        if held is None or waiting is None:
            return waiting if held is None else held
        return min(held, waiting)

    # -- processing -------------------------------------------------------------
    async def _process(self, released: list[InputMessage]) -> None:
        self._metrics.held_messages.set(self._aligner.held)
        if not released:
            return
        started = time.perf_counter()
        now = wall_ms()
        touched: dict[bytes, tuple[BedState, int]] = {}
        pending: list[Any] = []
        applied: dict[str, int] = {}  # events per topic, counted once per batch
        new_beds = 0
        apply, stored = self._engine.apply_in_place, self._beds.get  # locals: once per message
        for message in released:
            source = message.source
            # The message key is its events' bed id (the codec rejects any other).
            key = message.key
            assert key is not None
            offset = message.offset
            entry = touched.get(key)
            state = entry[0] if entry else stored(key, message.partition)
            if state is None:
                if len(self._beds) + new_beds >= self._max_beds:
                    capacity = Rejection("bed_capacity", f"{self._max_beds} beds already in state")
                    pending.append(
                        await self._outcomes.reject(
                            capacity, message.topic, message.partition, offset, key, message.value
                        )
                    )
                    continue
                new_beds += 1
            elif state.offsets.get(source, -1) >= offset:
                # Applied before a crash, committed after: the state already holds it.
                self._metrics.event_notes.labels("already_applied").inc()
                continue
            events = message.events
            # Only the acknowledgement reads the message from here on: its events can
            # go now instead of surviving a garbage collection or two until the bed's
            # state is written (in-process, that halved the old generation's cost).
            message.events = ()
            for event in events:
                step = apply(state, event)
                if step is None:
                    continue  # applied to ``state`` in place, nothing to report
                state = step.state
                if step.transitions or step.notes or step.rejection is not None:
                    pending.extend(await self._outcomes.of_step(step, message, event.ts))
            applied[message.topic] = applied.get(message.topic, 0) + len(events)
            assert state is not None
            state.offsets[source] = offset
            if entry is None or entry[0] is not state:
                touched[key] = (state, message.partition)
        for state, _ in touched.values():
            state.received_wall_ms = now
        self._writes.after(pending)
        self._beds.keep(touched)
        self._writes.add(touched, released, applied)
        if self._writes.due(self._backlog):
            await self._writes.send()
        self._metrics.batch_seconds.observe(time.perf_counter() - started)
        self._metrics.beds_in_state.set(len(self._beds))

    def _backlog(self) -> bool:
        """Whether the broker holds input this worker has not received yet."""
        lag = self._lag
        return any(
            lag(topic, partition, offset)
            for (topic, partition), (_, offset) in self._aligner.positions().items()
        )

    def _count_consumed(self, topic: str, events: int) -> None:
        """Count a topic's events consumed, once their states are on the broker (labels()
        per event cost as much as the engine's own work on a sample)."""
        counter = self._consumed_counters.get(topic)
        if counter is None:
            counter = self._metrics.events_consumed.labels(topic, self._kinds[topic])
            self._consumed_counters[topic] = counter
        counter.inc(events)

    @staticmethod
    async def _settle(futures: list[Any]) -> None:
        if futures:
            await asyncio.gather(*futures)

    # -- clock ticks and ownership ------------------------------------------------
    async def tick(self, partitions: set[int]) -> int:
        """Evaluate time-only rules on every owned bed; evict beds silent for too long."""
        async with self._lock:
            now = wall_ms()
            pending: list[Any] = []
            changed: list[tuple[bytes, BedState, int]] = []
            evicted: list[tuple[bytes, int]] = []
            census = AlertCensus()
            for key, state, partition in list(self._beds.owned(partitions)):
                # A silent bed's event time advances with the wall clock since it last spoke.
                bed_now = state.clock_ms + max(0, now - state.received_wall_ms)
                if self._engine.evicted(state, bed_now):
                    for transition in self._engine.retire(state, bed_now):
                        pending.append(await self._outcomes.emit(transition, None, None))
                    evicted.append((key, partition))
                    continue
                step = self._engine.tick(state, bed_now)
                for transition in step.transitions:
                    pending.append(await self._outcomes.emit(transition, None, None))
                if step.transitions:
                    changed.append((key, step.state, partition))
                census.count(step.state, bed_now)
            await self._settle(pending)
            if changed or evicted:
                # After the write on its way: its older states must not land after these.
                await self._writes.land()
            for key, state, partition in changed:
                await self._beds.put(key, state, partition)
            for key, partition in evicted:
                self._writes.forget_bed(key)
                self._beds.delete(key, partition)
                self._engine.forget(key.decode())
            await self._settle(
                [
                    await self._outcomes.send_document(doc)
                    for doc in self._blindness.check(self._aligner.last_heard(), now)
                ]
            )
            for partition in partitions:
                silent = partition in self._blindness.silent()
                self._metrics.partition_silent.labels(str(partition)).set(int(silent))
            census.publish(self._metrics)
            self._metrics.beds_in_state.set(len(self._beds))
            publish_partition_positions(self._metrics, self._aligner.positions(), self._lag, now)
            return len(changed)

    def assigned(self, partitions: set[int]) -> None:
        log.info("partitions assigned", extra={"partitions": sorted(partitions)})
        self._owned = set(partitions)
        self._aligner.assign(partitions, wall_ms())

    async def revoked(self, partitions: set[int]) -> None:
        """Let the batch in progress finish, then let go of these partitions.

        Held messages are not acknowledged: the partition's new owner reads them
        again. Waiting for the lock keeps a batch of a revoked partition from
        writing state after the new owner has recovered it.
        """
        async with self._lock:
            log.info("partitions revoked", extra={"partitions": sorted(partitions)})
            # Their next owner then recovers the newest states and skips what they hold.
            await self._writes.send(partitions, wait=True)
            self._owned -= partitions
            self._aligner.revoke(partitions)
            self._ordered_acks.drop(partitions)
            for bed_id in self._beds.revoke(partitions):
                self._engine.forget(bed_id)
