"""Bed state for the worker: decoded states in memory, persisted in the Faust table.

The table (memory store + changelog topic) is the durable copy; this cache keeps
decoded ``BedState`` objects of the beds this worker actively owns, with the
partition each belongs to, so a batch decodes each bed at most once and ticks do
not decode every bed every few seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from stream_app.engine.state import BedState

log = logging.getLogger("vasowatch.beds")


def _decode(key: bytes, blob: bytes) -> BedState | None:
    """A stored state, or None when it cannot be read (an older format, say)."""
    try:
        return BedState.from_bytes(blob)
    except (ValueError, TypeError, KeyError) as exc:
        # Starting the bed afresh is safer than stopping every bed of the worker.
        log.error(
            "discarding unreadable bed state",
            extra={"bed_id": key.decode(errors="replace"), "error": type(exc).__name__},
        )
        return None


# Sends one encoded state to the changelog (partition, key, value); returns its delivery.
ChangelogSend = Callable[[int, bytes, bytes], Awaitable[Awaitable[Any]]]


class BedStore:
    def __init__(self, table: Any, send: ChangelogSend) -> None:
        """``send``: the changelog write of a state (deletions go through the table)."""
        self._table = table
        self._send = send
        self._cache: dict[bytes, tuple[BedState, int]] = {}

    def get(self, key: bytes, partition: int) -> BedState | None:
        cached = self._cache.get(key)
        if cached is not None:
            return cached[0]
        blob: bytes | None = self._table.data.get(key)
        if blob is None:
            return None
        state = _decode(key, blob)
        if state is None:
            return None
        self._cache[key] = (state, partition)
        return state

    def keep(self, beds: dict[bytes, tuple[BedState, int]]) -> None:
        """Hold these states in memory now; ``put`` writes them later (a new bed, or a
        new encounter's state, is then found by the next batch and by ticks)."""
        self._cache.update(beds)

    async def put(self, key: bytes, state: BedState, partition: int) -> Awaitable[Any]:
        """Write one bed's state: memory store and changelog (explicit partition).

        Faust derives a table write's changelog partition from the "current event";
        in a batch that is the batch's last event, not this bed's. Writing the
        changelog ourselves keeps each bed in the partition its events came from,
        which is where recovery and rebalancing look for it. Returns the changelog
        record's future, done once the broker has it.
        """
        return await self._send(partition, key, self.encode(key, state, partition))

    def encode(self, key: bytes, state: BedState, partition: int) -> bytes:
        """A state's changelog value, kept as the table's copy (``put`` sends it; a
        deferred write sends it later, with the state as it was then)."""
        blob = state.to_bytes()
        self._cache[key] = (state, partition)
        self._table.data[key] = blob
        return blob

    async def send(self, partition: int, key: bytes, blob: bytes) -> Awaitable[Any]:
        return await self._send(partition, key, blob)

    def delete(self, key: bytes, partition: int) -> None:
        self._cache.pop(key, None)
        self._table.data.pop(key, None)
        self._table.send_changelog(partition, key, None, value_serializer="raw")

    def revoke(self, partitions: set[int]) -> list[str]:
        """Drop cached beds of partitions this worker no longer owns; returns their ids."""
        gone = [k for k, (_, p) in self._cache.items() if p in partitions]
        for key in gone:
            del self._cache[key]
        return [key.decode() for key in gone]

    def owned(self, partitions: set[int]) -> Iterator[tuple[bytes, BedState, int]]:
        """Every bed in an actively owned partition (loading those not yet cached)."""
        for key in list(self._table.data.keys()):
            cached = self._cache.get(key)
            if cached is None:
                state = _decode(key, self._table.data[key])
                if state is None:
                    self._table.data.pop(key, None)  # report it once, not on every tick
                    continue
                partition = _partition_of(state)
                if partition is None or partition not in partitions:
                    continue
                self._cache[key] = (state, partition)
                cached = (state, partition)
            if cached[1] in partitions:
                yield key, cached[0], cached[1]
        # Kept but not written yet (``keep``): new beds of a backlog being drained.
        unwritten = [k for k in self._cache if k not in self._table.data]
        for key in unwritten:
            state, partition = self._cache[key]
            if partition in partitions:
                yield key, state, partition

    def __len__(self) -> int:
        return len(self._cache)


def _partition_of(state: BedState) -> int | None:
    for source in state.offsets:
        return int(source.rsplit(":", 1)[1])
    return None
