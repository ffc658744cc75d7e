"""Bed states applied but not yet written, and the messages that wait for them.

Writing every touched bed's state after every batch made a drained backlog write
about 430 bytes of changelog per event (a 3.6 KB state for each of 1,000 beds, eight
events each per batch): the worker's encoding and the broker's appends of those
records were a large part of a drain. While the broker holds unread input for the
worker, a touched bed's state is now written at most once per interval; once the
worker has caught up, after every batch as before, so live input is made durable
as soon as it is processed.

The order that makes a crash lose nothing is kept: a message is acknowledged (and
so may be committed) only after the state holding its effects is on the broker.
Until then it waits here, and so does any later message of its topic-partition that
had nothing to apply (``lowest``, read by the acknowledgements' ordering). Alerts
and dead letters are sent with their batch, and a state is sent only once every
alert and dead letter sent before it is delivered (``after``): a state holding an
offset whose alert never reached the broker would skip that alert after a crash.
Processing does not stand still for those deliveries (it did, once per batch: with
1% malformed input every batch has a dead letter, and a fifth of a drain went to
waiting for them). A write's states are encoded when it is due (what later batches
change is not in it) and handed to the producer by a task of its own, once those
deliveries are done, while processing goes on. After a crash the messages of the
last interval are read again; their transitions carry the same ``alert_id``.

Draining many beds, the interval grows: at 10,000 beds one write is 10,000 states,
each encoded and handed to the producer, and at one write a second writing took
14.5% of a draining worker's py-spy samples (2.6% at 1,000 beds;
``docs/benchmarks.md``). While a backlog drains, the time between writes is
therefore also at least the time the last write's encoding held processing up,
divided by ``WritePacing.budget``, up to
``WritePacing.max_interval_s``: writing stays a small share of a drain at any bed
count, and a crash still reads at most that much input again.

Neither handing the states to the producer nor their deliveries are waited for
where a write is sent: in a backlog drain sharing the machine's two cores, the
broker took 0.2-0.4 s to answer one interval's states of 1,000 beds, and processing
stood still meanwhile (a fifth of the drain); at 10,000 beds the producer itself
held a write for 0.3-0.9 s (it waits for a broker round trip per full 512 KiB
batch of a partition). The next write waits for the one before it instead, so at
most one is on its way, and a state written outside these writes (a tick's) waits
for the write on its way (``land``): the changelog must end with the newest state.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from stream_app.engine.state import BedState

TopicPartition = tuple[str, int]
# Encodes one bed's state (key, state, partition) for the changelog, keeping it as
# the table's copy.
EncodeState = Callable[[bytes, BedState, int], bytes]
# Sends one encoded state (partition, key, value); returns its delivery.
SendState = Callable[[int, bytes, bytes], Awaitable[Awaitable[Any]]]


@dataclass(frozen=True)
class WritePacing:
    """How far apart a draining worker's state writes are (see the module's text)."""

    interval_s: float  # at least this long
    budget: float = 1.0  # ...and long enough that writing takes at most this share
    max_interval_s: float = 0.0  # ...but never longer than this (or ``interval_s``)

    def spacing(self, last_write_s: float) -> float:
        """Time from one write to the next while draining, after a write whose encoding
        took ``last_write_s``."""
        longest = max(self.interval_s, self.max_interval_s)
        return min(longest, max(self.interval_s, last_write_s / self.budget))


NO_DEFERRAL = WritePacing(0.0)  # every batch written at once, draining or not


@dataclass
class Write:
    """Bed states on their way to the broker, and the messages that wait for them."""

    messages: list[Any]  # to acknowledge once every delivery is done
    applied: dict[str, int]  # events per topic among those messages
    lowest: dict[TopicPartition, int]
    gate: list[Any]  # alert and dead-letter deliveries to be done before the states go
    states: dict[bytes, tuple[int, bytes]]  # encoded: key -> (partition, value)
    sending: asyncio.Task[None] | None = None  # hands them to the producer
    deliveries: list[Any] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        sending = self.sending
        return (
            sending is not None
            and sending.done()
            and all(delivery.done() for delivery in self.deliveries)
        )


class StateWrites:
    def __init__(
        self,
        pacing: WritePacing,
        *,
        encode: EncodeState,
        send: SendState,
        ack: Callable[[Sequence[Any]], None],
        count: Callable[[str, int], None],
        clock: Callable[[], float] = time.monotonic,
        before_ack: Callable[[], None] = lambda: None,
    ) -> None:
        """``encode`` and ``send`` write a state; ``ack`` acknowledges messages whose states are on
        the broker, and ``count`` counts their applied events per topic.
        ``before_ack`` runs first: what has to be acknowledged before them (older
        messages that had nothing to apply, whose dead letters are delivered)."""
        self.pacing = pacing
        # How long the last write's encoding held processing up. Handing the states to
        # the producer costs about as much CPU again (py-spy), but runs beside
        # processing, and its duration is mostly that of broker round trips.
        self._last_write_s = 0.0
        self._encode, self._send = encode, send
        self._ack, self._count = ack, count
        self._before_ack = before_ack
        self._clock = clock
        self._sent_before: list[Any] = []  # alert and dead-letter deliveries (``after``)
        self._written_at = clock()
        self.beds: dict[bytes, tuple[BedState, int]] = {}  # key -> (state, partition)
        self.messages: list[Any] = []  # applied, to acknowledge once the beds are written
        self.applied: dict[str, int] = {}  # events per topic among those messages
        self._lowest: dict[TopicPartition, int] = {}
        self.in_flight: Write | None = None

    def add(
        self,
        beds: dict[bytes, tuple[BedState, int]],
        messages: Sequence[Any],
        applied: dict[str, int],
    ) -> None:
        """A processed batch: its touched beds, its messages (offset order per
        topic-partition) and its applied events per topic."""
        self.beds.update(beds)
        self.messages.extend(messages)
        lowest = self._lowest
        for message in messages:
            # ``tp`` is (topic, partition) already built: no tuple per message.
            if message.tp not in lowest:
                lowest[message.tp] = message.offset
        for topic, count in applied.items():
            self.applied[topic] = self.applied.get(topic, 0) + count

    def after(self, deliveries: Sequence[Any]) -> None:
        """Deliveries (of alerts and dead letters) the next state write must wait for."""
        if not deliveries:
            return
        sent = self._sent_before
        if len(sent) > 1000:  # forget those already delivered, now and then
            sent[:] = [d for d in sent if not d.done()]
        sent.extend(deliveries)

    async def _delivered(self) -> None:
        sent, self._sent_before = self._sent_before, []
        if sent:
            await asyncio.gather(*sent)

    def lowest(self, topic: str, partition: int) -> int | None:
        """The lowest offset of this topic-partition waiting for its bed's write."""
        tp = (topic, partition)
        if self.in_flight is not None and tp in self.in_flight.lowest:
            return self.in_flight.lowest[tp]  # sent earlier, so lower than any waiting
        return self._lowest.get(tp)

    @property
    def waiting(self) -> bool:
        return bool(self.messages or self.beds)

    def due(self, backlog: Callable[[], bool]) -> bool:
        """Whether to write now: something waits, and the interval is over or the
        worker has caught up (``backlog`` says whether the broker holds unread input)."""
        if not self.waiting:
            return False
        spacing = self.pacing.spacing(self._last_write_s)
        return self._clock() - self._written_at >= spacing or not backlog()

    async def send(self, revoked: set[int] | None = None, *, wait: bool = False) -> None:
        """Write the waiting bed states, once the previous write has landed: encoded
        now, and handed to the producer by a task once the deliveries before them are
        done. Their messages are acknowledged when they land (``wait``: before
        returning). The interval starts again."""
        await self.land(revoked)
        if not self.waiting:
            if wait:  # (messages with only dead letters are acknowledged once these land)
                await self._delivered()
            return
        encode, began = self._encode, self._clock()
        states = {key: (part, encode(key, state, part)) for key, (state, part) in self.beds.items()}
        self._last_write_s = self._clock() - began
        gate, self._sent_before = self._sent_before, []
        write = Write(self.messages, self.applied, self._lowest, gate, states)
        self.beds, self.messages, self.applied, self._lowest = {}, [], {}, {}
        self._written_at = began  # (from one write's start to the next one's)
        self.in_flight = write
        write.sending = asyncio.ensure_future(self._send_states(write))
        if wait:
            await self.land(revoked)

    async def _send_states(self, write: Write) -> None:
        if write.gate:
            await asyncio.gather(*write.gate)
        send, deliveries = self._send, write.deliveries
        for key, (part, blob) in write.states.items():
            deliveries.append(await send(part, key, blob))

    async def land(self, revoked: set[int] | None = None) -> None:
        """Wait until the write on its way is on the broker, then acknowledge the
        messages it holds (not those of ``revoked`` partitions: Faust has let go of
        their offsets).

        Acknowledged only once the states are on the broker: Faust flushes its producer
        buffer before a commit only while each record leaves within 0.1 s, so under
        load a commit could overtake the changelog, and a crash or a rebalance then
        recovers a state older than the committed offsets: those events are lost.
        """
        write = self.in_flight
        if write is None:
            return
        if write.sending is not None:
            await write.sending  # (raises what the producer raised)
        if write.deliveries:
            await asyncio.gather(*write.deliveries)
        self._before_ack()  # (while this write's offsets still count as waiting)
        self.in_flight = None
        messages = write.messages
        self._ack([m for m in messages if m.partition not in revoked] if revoked else messages)
        for topic, count in write.applied.items():
            self._count(topic, count)

    async def land_if_delivered(self) -> None:
        """``land``, if that needs no waiting."""
        write = self.in_flight
        if write is not None and write.delivered:
            await self.land()

    def forget_bed(self, key: bytes) -> None:
        """An evicted bed: writing it later would bring it back (after its deletion).
        The write on its way must have landed first (its states may be with the
        producer already)."""
        assert self.in_flight is None, "land() before forgetting a bed"
        self.beds.pop(key, None)
