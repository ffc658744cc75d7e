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
are not deferred: they are delivered with their batch. After a crash the messages
of the last interval are read again; their transitions carry the same ``alert_id``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from stream_app.engine.state import BedState

TopicPartition = tuple[str, int]


class StateWrites:
    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._written_at = clock()
        self.beds: dict[bytes, tuple[BedState, int]] = {}  # key -> (state, partition)
        self.messages: list[Any] = []  # applied, to acknowledge once the beds are written
        self.applied: dict[str, int] = {}  # events per topic among those messages
        self._lowest: dict[TopicPartition, int] = {}

    def add(
        self,
        beds: dict[bytes, tuple[BedState, int]],
        messages: Iterable[Any],
        applied: dict[str, int],
    ) -> None:
        """A processed batch: its touched beds, its messages (offset order per
        topic-partition) and its applied events per topic."""
        self.beds.update(beds)
        lowest = self._lowest
        for message in messages:
            self.messages.append(message)
            lowest.setdefault((message.topic, message.partition), message.offset)
        for topic, count in applied.items():
            self.applied[topic] = self.applied.get(topic, 0) + count

    def lowest(self, topic: str, partition: int) -> int | None:
        """The lowest offset of this topic-partition waiting for its bed's write."""
        return self._lowest.get((topic, partition))

    @property
    def waiting(self) -> bool:
        return bool(self.messages or self.beds)

    def due(self, backlog: Callable[[], bool]) -> bool:
        """Whether to write now: something waits, and the interval is over or the
        worker has caught up (``backlog`` says whether the broker holds unread input)."""
        if not self.waiting:
            return False
        return self._clock() - self._written_at >= self.interval_s or not backlog()

    def take(self) -> tuple[dict[bytes, tuple[BedState, int]], list[Any], dict[str, int]]:
        """What to write and then acknowledge; the interval starts again."""
        taken = (self.beds, self.messages, self.applied)
        self.beds, self.messages, self.applied = {}, [], {}
        self._lowest = {}
        self._written_at = self._clock()
        return taken

    def forget_bed(self, key: bytes) -> None:
        """An evicted bed: writing it later would bring it back."""
        self.beds.pop(key, None)
