"""Event-time alignment across the co-partitioned input topics.

Partition p of every input topic carries the same beds. When one topic is read
ahead of another (a backlog after a restart, or a slow fetch), processing the
ahead topic first would apply a pump change before the arterial samples that
preceded it. Like Kafka Streams' timestamp synchronisation, the aligner keeps
one queue per topic-partition and releases the head with the lowest event time,
but only while every other topic of the partition either has something queued
(so its next event time is known), is known to be caught up with the broker,
or has delivered nothing for ``idle_ms`` (wall clock).

Released messages keep their per-partition offset order, so a bed's applied
events are always a prefix of each topic-partition: that is what lets the bed
state remember "applied up to offset N" and skip replays after a crash.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

TopicPartition = tuple[str, int]

log = logging.getLogger("vasowatch.worker")

_ALWAYS = 2**63


class Alignable(Protocol):
    """What the aligner reads of a held message."""

    topic: str
    partition: int
    offset: int
    ts: int  # event time used for ordering (earliest element of the message)
    received_ms: int  # wall time it reached the worker


Item = TypeVar("Item", bound=Alignable)


@dataclass
class Aligner(Generic[Item]):
    topics: tuple[str, ...]
    idle_ms: int
    max_held: int = 50_000
    _queues: dict[TopicPartition, deque[Item]] = field(default_factory=dict)
    _last_delivery: dict[TopicPartition, int] = field(default_factory=dict)
    _last_offset: dict[TopicPartition, int] = field(default_factory=dict)
    # First delivery on each partition number since it was assigned: a topic counts as
    # idle only once its siblings have been delivering without it for ``idle_ms`` (after
    # an assignment the consumer may spend seconds recovering state before it fetches).
    _active_since: dict[int, int] = field(default_factory=dict)
    _overflowing: bool = False

    def assign(self, partitions: Iterable[int], now_ms: int) -> None:
        """Start watching these partition numbers (idle time counts from now)."""
        for partition in partitions:
            for topic in self.topics:
                self._last_delivery.setdefault((topic, partition), now_ms)

    def revoke(self, partitions: Iterable[int]) -> list[Item]:
        """Forget these partitions; returns the messages that were held (not processed)."""
        dropped: list[Item] = []
        for partition in set(partitions):
            for topic in self.topics:
                tp = (topic, partition)
                dropped.extend(self._queues.pop(tp, ()))
                self._last_delivery.pop(tp, None)
                self._last_offset.pop(tp, None)
            self._active_since.pop(partition, None)
        return dropped

    def add(self, item: Item, now_ms: int) -> None:
        item.received_ms = now_ms
        self.add_run(item.topic, item.partition, [item], item.offset, now_ms)

    def add_run(
        self, topic: str, partition: int, items: list[Item], last_offset: int, now_ms: int
    ) -> None:
        """``add`` for consecutive messages of one topic-partition received at ``now_ms``
        (their ``received_ms``); ``last_offset`` is the run's last, held or not."""
        if items:
            self._queues.setdefault((topic, partition), deque()).extend(items)
        self.seen(topic, partition, last_offset, now_ms)

    def seen(self, topic: str, partition: int, offset: int, now_ms: int) -> None:
        """Any delivery counts, even one with nothing to align: the topic is not idle."""
        tp = (topic, partition)
        self._last_delivery[tp] = now_ms
        self._last_offset[tp] = offset
        self._active_since.setdefault(partition, now_ms)

    def last_heard(self) -> dict[int, int]:
        """Per owned partition number: wall time of the latest delivery on any input topic."""
        heard: dict[int, int] = {}
        for (_, partition), at in self._last_delivery.items():
            heard[partition] = max(at, heard.get(partition, 0))
        return heard

    def positions(self) -> dict[TopicPartition, tuple[int, int | None]]:
        """Per owned topic-partition: wall time of the latest delivery and its offset."""
        return {tp: (at, self._last_offset.get(tp)) for tp, at in self._last_delivery.items()}

    def held_on(self, topic: str, partition: int) -> int:
        queue = self._queues.get((topic, partition))
        return len(queue) if queue else 0

    def lowest_held(self, topic: str, partition: int) -> int | None:
        """The offset of the oldest message held on this topic-partition, if any."""
        queue = self._queues.get((topic, partition))
        return queue[0].offset if queue else None

    @property
    def held(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def release(
        self,
        now_ms: int,
        caught_up: Callable[[str, int, int | None, int], bool],
        unread: Callable[[str, int, int | None], int | None] | None = None,
    ) -> list[Item]:
        """Messages that may be processed now, in event-time order per partition.

        ``caught_up(topic, partition, last_offset, fresh_after_ms)`` tells whether the
        broker, as last heard from after ``fresh_after_ms``, had nothing newer for
        that topic-partition than ``last_offset``. Freshness matters: a pump change
        appended just before a sample may be missing from an older fetch.

        ``unread(topic, partition, last_offset)`` gives how many messages the broker
        holds after ``last_offset`` (None: not known). The idle limit is a last resort
        for not knowing: a topic the broker is known to hold unread data for is waited
        for however long its fetch takes (up to ``max_held``). Without that, a backlog
        whose fetches reach one topic seconds after its siblings had its samples
        applied after later pump changes, and dead-lettered as late.
        """
        released: list[Item] = []
        partitions = {p for _, p in self._queues}
        overflow = self.held > self.max_held
        if overflow and not self._overflowing:
            log.warning(
                "over %d messages held for alignment: releasing them unaligned", self.max_held
            )
        self._overflowing = overflow
        for partition in sorted(partitions):
            self._release_partition(partition, overflow, now_ms, caught_up, unread, released)
        return released

    def _release_partition(
        self,
        partition: int,
        overflow: bool,
        now_ms: int,
        caught_up: Callable[[str, int, int | None, int], bool],
        unread: Callable[[str, int, int | None], int | None] | None,
        released: list[Item],
    ) -> None:
        queues = [(t, self._queues.get((t, partition))) for t in self.topics]
        # An empty topic found caught up for messages received at time R is caught up
        # for any received before R too, and its position does not move while
        # releasing: ask the broker's view once per topic, not once per message.
        clear_until: dict[str, int] = {}

        def clear(received_ms: int) -> bool:
            return overflow or self._siblings_clear(
                partition, queues, received_ms, clear_until, now_ms, caught_up, unread
            )

        while True:
            live = [q for _, q in queues if q]
            if not live:
                return
            if len(live) == 1:
                # One topic holds everything: its head is always the candidate, and
                # receipt times only grow along a queue, so whatever arrived with a
                # cleared head goes with it.
                queue = live[0]
                while queue and clear(received := queue[0].received_ms):
                    while queue and queue[0].received_ms <= received:
                        released.append(queue.popleft())
                return
            # The lowest head goes first, and keeps going while it stays below the next
            # lowest head (the other queues do not change meanwhile): one comparison
            # per message instead of a search over every topic's head.
            (_, first, candidate), (next_ts, next_topic, _) = sorted(
                (q[0].ts, t, q) for t, q in queues if q
            )[:2]
            # (ts, first) < (next_ts, next_topic) for integer times, without two tuples
            # per message: a tie goes to the topic first in name order.
            bound = next_ts + (first < next_topic)
            while candidate and candidate[0].ts < bound:
                received = candidate[0].received_ms
                if not clear(received):
                    return
                while (
                    candidate
                    and (head := candidate[0]).received_ms <= received
                    and (head.ts < bound)
                ):
                    released.append(candidate.popleft())

    def _siblings_clear(
        self,
        partition: int,
        queues: list[tuple[str, deque[Item] | None]],
        received_ms: int,
        clear_until: dict[str, int],
        now_ms: int,
        caught_up: Callable[[str, int, int | None, int], bool],
        unread: Callable[[str, int, int | None], int | None] | None,
    ) -> bool:
        """Whether every empty sibling topic lets a message received at ``received_ms`` go."""
        for topic, queue in queues:
            if queue or clear_until.get(topic, -1) >= received_ms:
                continue
            tp = (topic, partition)
            quiet_since = max(
                self._last_delivery.get(tp, now_ms),
                self._active_since.get(partition, now_ms),
            )
            idle = now_ms - quiet_since >= self.idle_ms
            last = self._last_offset.get(tp)
            if idle and unread is not None:
                idle = not unread(topic, partition, last)
            if idle:
                clear_until[topic] = _ALWAYS
            elif caught_up(topic, partition, last, received_ms):
                clear_until[topic] = received_ms
            else:
                return False
        return True
