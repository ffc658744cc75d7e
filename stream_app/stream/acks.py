"""Acknowledging messages that had nothing to apply, in an order Faust can commit.

A message that only produced dead letters could be acknowledged at once, but an older
message of the same topic-partition may still be held for event-time alignment.
Faust 0.15 commits past a lone unacknowledged offset at the head of its acked list
(and past any gap before a partition's first commit), so acknowledging out of order
could lose the held message in a crash. These wait until nothing older is held.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol


class HeldOffsets(Protocol):
    def lowest_held(self, topic: str, partition: int) -> int | None: ...


class OrderedAcks:
    def __init__(self, held: HeldOffsets, ack: Callable[[Sequence[Any]], None]) -> None:
        self._held = held
        self._ack = ack
        self._waiting: dict[tuple[str, int], list[tuple[int, Any]]] = {}

    def wait(self, topic: str, partition: int, offset: int, event: Any) -> None:
        self._waiting.setdefault((topic, partition), []).append((offset, event))

    def release(self) -> None:
        """Acknowledge what has nothing older held on its topic-partition."""
        for tp, waiting in list(self._waiting.items()):
            lowest = self._held.lowest_held(*tp)
            still = []
            for offset, event in waiting:
                if lowest is None or offset < lowest:
                    self._ack([event])
                else:
                    still.append((offset, event))
            if still:
                self._waiting[tp] = still
            else:
                del self._waiting[tp]

    def drop(self, partitions: set[int]) -> None:
        """Partitions given away: their new owner reads (and dead-letters) these again."""
        for tp in [tp for tp in self._waiting if tp[1] in partitions]:
            del self._waiting[tp]
