"""Handing whole fetches of the input topics to the processor, without Faust's per-message path.

Faust delivers each consumed message on its own: a task pair raced in ``wait_first``,
flow-control and producer-buffer waits, an ``Event``, a channel queue and a stream
iterator; measured, that capped one worker near 5,000 events/s on a machine where a
bare consumer reads 400,000 messages/s. Here the fetcher loop collects the input
topics' messages of one fetch and awaits the processor once for all of them; every
other topic (table changelogs during recovery, anything else subscribed) still takes
Faust's own path. Faust keeps owning the group, rebalances, offsets and commits: the
processor acknowledges what it has processed (``acks.acknowledge``, Faust's own
bookkeeping done per batch), and a fetch read under a generation that has since
ended is dropped unprocessed (the partition's owner reads it again from the committed
offset, as Faust's streams do).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiokafka.errors import IllegalStateError
from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from faust.types import TP, TopicT

from stream_app.stream.consumer_thread import BatchIntakeConsumerThread
from stream_app.stream.hold_limits import HoldLimits
from stream_app.stream.input_message import InputMessage

BatchHandler = Callable[[Sequence[InputMessage]], Awaitable[None]]


class BatchIntake:
    """The input topics (one Faust topic over all of them) and the processor's entry point.

    The handler is attached after the app is built (the processor needs the app's
    topics and table first)."""

    def __init__(self, source: TopicT, limits: HoldLimits, *, fetch_max_wait_ms: int) -> None:
        self.source = source
        self.topics = frozenset(source.topics)
        self.limits = limits
        self.fetch_max_wait_ms = fetch_max_wait_ms
        self.handler: BatchHandler | None = None
        # Called as the app stops, before its consumer and producer do.
        self.before_stop: Callable[[], Awaitable[None]] | None = None
        self.held_on: Callable[[str, int], int] = lambda _topic, _partition: 0
        self.held: Callable[[], int] = lambda: 0


class BatchIntakeConsumer(AIOKafkaConsumer):
    """Faust's aiokafka consumer with a fetcher loop that batches the input topics."""

    intake: BatchIntake

    def _new_consumer_thread(self) -> AIOKafkaConsumerThread:
        return BatchIntakeConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def _getmany(
        self,
        active_partitions: set[TP] | None,
        timeout: float,  # noqa: ASYNC109 (Faust's signature; it passes keywords)
    ) -> Any:
        # Faust hands the consumer thread its live set of active partitions, which the
        # main loop keeps changing (a rebalance or the end of table recovery pauses
        # partitions). Emptied before the thread reads it, aiokafka takes it for "every
        # assigned partition" and returns the paused input partitions' records too;
        # Faust then discards them, but their positions have moved past them, and a
        # partition the group has not committed yet is not sought back: the records
        # were never processed (seen as whole partitions silently skipped after a
        # worker joined). The thread gets a copy taken when the fetch starts.
        if active_partitions is None:
            return await super()._getmany(None, timeout)
        fetching = set(active_partitions)
        if not fetching:
            return {}
        # Faust's AIOKafkaConsumerThread.getmany, with the record budget (HoldLimits).
        thread: Any = self._thread
        return await thread.call_thread(
            thread._fetch_records,
            thread._ensure_consumer(),
            fetching,
            timeout=timeout,
            max_records=self.intake.limits.fetch_budget(self.intake.held()),
        )

    async def seek_to_committed(self) -> Mapping[TP, int]:
        """Seek to the committed offsets, and an uncommitted input partition to its start.

        aiokafka leaves a partition without a committed offset (or with offset 0)
        wherever its fetch position happens to be; Faust's recovery relies on this seek
        to take back anything fetched but not processed, so an input partition the group
        has not committed yet goes back to where the group would start reading it
        (``auto_offset_reset=earliest``). Messages already applied are skipped by
        their beds' recorded offsets.
        """
        committed = await super().seek_to_committed()
        assigned = self.assignment()
        uncommitted = {
            tp: 0
            for tp, offset in committed.items()
            if not offset and tp.topic in self.intake.topics and tp in assigned
        }
        if uncommitted:
            try:
                await self.seek_wait(uncommitted)
            except IllegalStateError:
                # Revoked while the committed offsets were asked for: the next
                # assignment starts every partition from its committed offset anyway.
                self.log.info("seek to start skipped: a rebalance is under way")
        return committed

    async def _drain_messages(self, fetcher: Any) -> None:
        # Faust's own loop (faust.transport.consumer.Consumer._drain_messages), except
        # that each fetch goes through _drain_fetch below.
        consumer_stopped = self._stopped.is_set
        fetcher_stopped = fetcher._stopped.is_set
        stopping: tuple[type[BaseException], ...] = (
            *self.consumer_stopped_errors,
            asyncio.CancelledError,
        )
        try:
            while not (consumer_stopped() or fetcher_stopped()):
                self.diag.set_flag(CONSUMER_FETCHING)
                await self.sleep(0)
                if not self.should_stop:
                    await self._drain_fetch()
                self.diag.unset_flag(CONSUMER_FETCHING)
        except stopping:
            if self.transport.app.should_stop:
                return
            raise
        except Exception as exc:
            self.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            self.diag.unset_flag(CONSUMER_FETCHING)

    async def _drain_fetch(self) -> None:
        # Faust's getmany, taken a partition at a time: it yields each record through an
        # async generator, round-robin across partitions, asking each record's
        # partition's highwater on the way (12% of the worker's time). The rules kept:
        # a fetch returned after the flow stopped is dropped and sought back; one
        # returned after the generation changed, or for a partition no longer active,
        # is dropped (recovery's seek reads it again); records below the read offset
        # were fetched before a seek back.
        if self._buffered_partitions and not self._get_active_partitions():
            # Every input partition held back: Faust's loop would sleep 1 s before
            # looking again, however soon the aligner lets their messages go.
            await self.sleep(self._fetch_timeout_s())
            self._hold_back()
            return
        records, active = await self._wait_next_records(self._fetch_timeout_s())
        if records is None or self.should_stop:
            return
        if not self.flow_active:
            try:
                await self.perform_seek()
            except Exception as exc:  # noqa: BLE001 (as Faust: the fetch loop goes on)
                self.log.warning("seek after a stopped flow failed: %r", exc)
            return
        generation = self.app.consumer_generation_id
        batch: list[InputMessage] = []
        for tp, fetched in records.items():
            if not self.flow_active or self.app.consumer_generation_id != generation:
                break
            if not (active is None or tp in active or tp in self._buffered_partitions):
                continue
            self.app.monitor.track_tp_end_offset(tp, self.highwater(tp))
            into = batch if tp.topic in self.intake.topics else None
            await self._take(tp, fetched, into, generation)
        if batch:
            await self._deliver(batch)
        self._hold_back()

    def _fetch_timeout_s(self) -> float:
        """How long one fetch may wait for records to arrive.

        A held-back partition is resumed only between fetches (``_hold_back``), and a
        fetch of caught-up partitions returns nothing until its timeout: at Faust's 1 s,
        the end of every drained backlog waited up to a second with its last
        partitions held back after the aligner had let their messages go (measured:
        a 100,000-event drain took 1.9 s, of which 1.0 s was that wait). While any
        partition is held back, a fetch waits no longer than the broker does.
        """
        if self._buffered_partitions:
            return self.intake.fetch_max_wait_ms / 1000
        return 1.0

    async def _take(
        self, tp: TP, fetched: Sequence[Any], batch: list[InputMessage] | None, generation: int
    ) -> None:
        """Add a partition's fetched records to ``batch`` in offset order, or (no batch:
        not an input topic) hand each to Faust's callback, as its own loop does."""
        read = self._read_offset[tp]
        to_message = self._to_message
        topic, partition, source = tp.topic, tp.partition, f"{tp.topic}:{tp.partition}"
        if (
            batch is not None
            and fetched
            and (read is None or fetched[0].offset == read + 1)
            and fetched[-1].offset - fetched[0].offset == len(fetched) - 1
        ):
            # Nearly every fetch: the records that follow the last one read, without a
            # gap, so none is skipped or marks a gap; one pass without those checks.
            # Positional construction in the loop itself, not InputMessage.of: one
            # call per record less, on the path every input record takes.
            batch.extend(
                [
                    InputMessage(
                        topic,
                        partition,
                        source,
                        record.offset,
                        record.key,
                        record.value,
                        record.timestamp,
                        tp,
                        generation,
                    )
                    for record in fetched
                ]
            )
            self._read_offset[tp] = fetched[-1].offset
            return
        for record in fetched:
            offset = record.offset
            if read is not None and offset < read:
                continue
            if read and offset - read > 1 and self.app.topics.acks_enabled_for(tp.topic):
                await self._add_gap(tp, read + 1, offset)
            if batch is not None:
                batch.append(InputMessage.of(tp, record, generation, source))
            else:
                message = to_message(tp, record)
                await self.wait_first(self.callback(message), self.suspend_flow.wait())
                if not self.flow_active or self.app.consumer_generation_id != generation:
                    self._read_offset[tp] = offset
                    return
            read = offset
        self._read_offset[tp] = read

    def _hold_back(self) -> None:
        """Stop fetching a topic-partition that has many messages held for alignment.

        A fetch can bring 1 MB per partition of one topic while a sibling topic is
        still being waited for; unchecked, the held messages passed the aligner's limit
        and were released out of event-time order. Faust pauses a partition whose
        stream buffer is full the same way (``on_buffer_full``), and resumes it here
        once the aligner has let its messages go.

        A partition Faust has paused itself (a rebalance, table recovery) is left to
        Faust: resuming it here would fetch input before its beds' state is
        recovered and before its sibling topics are fetched again, whose events
        would then arrive late and be dead-lettered.
        """
        intake = self.intake
        assigned = self.assignment()
        held_back = self._buffered_partitions
        held_back &= assigned  # forget partitions revoked while held back
        for tp in assigned:
            if tp.topic not in intake.topics:
                continue
            if intake.held_on(tp.topic, tp.partition) >= intake.limits.per_partition:
                self.on_buffer_full(tp)
            elif tp in self._paused_partitions:
                held_back.discard(tp)  # Faust resumes it once recovery is over
            else:
                self.on_buffer_drop(tp)

    async def _deliver(self, batch: list[InputMessage]) -> None:
        handler = self.intake.handler
        if handler is None:
            return
        app_flow = self.app.flow_control
        if not app_flow.is_active():
            # Faust's conductor delivers nothing while the app's flow control is
            # suspended (from a revocation until the next assignment's recovery begins;
            # input partitions stay paused until recovery is over); the intake keeps
            # that rule. A new rebalance ends the wait.
            await self.wait_first(app_flow.acquire(), self.suspend_flow.wait())
        generation = self.app.consumer_generation_id
        current = [m for m in batch if m.generation_id == generation]
        if not (current and self.flow_active and app_flow.is_active()):
            # A rebalance began after the fetch: these belong to the next generation's
            # owners, who read them from the committed offsets.
            return
        await handler(current)
