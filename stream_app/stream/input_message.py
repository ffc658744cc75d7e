"""One consumed input message, as the processor and the acknowledgements read it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from faust.types import TP

from stream_app.domain.events import Event


class InputMessage:
    """What the worker reads of a consumed input record, and Faust's ``acked`` flag.

    Faust's ``ConsumerMessage`` also carries tracking, tracing, reference counts, sizes
    and a float timestamp the worker never reads: building one per record cost 5% of a
    draining worker. The acknowledgements (``acks.py``) read ``topic``, ``tp``,
    ``offset`` and ``acked`` as Faust's own ``ack`` does.

    Once decoded, the message itself is what the aligner holds (``events``, ``ts``,
    ``received_ms``, set by the processor as it decodes): a holder object and a
    decoding result per message cost as much as the engine's work on a sample.
    """

    __slots__ = (
        "acked",
        "append_ms",
        "events",
        "generation_id",
        "key",
        "offset",
        "partition",
        "received_ms",
        "source",
        "topic",
        "tp",
        "ts",
        "value",
    )

    events: Sequence[Event]  # the message's valid events (set when decoded)
    ts: int  # the earliest of their event times, the aligner's order
    received_ms: int  # wall time the worker received it

    def __init__(self, tp: TP, record: Any, generation_id: int, source: str = "") -> None:
        self.topic: str = tp.topic
        self.partition: int = tp.partition
        # "topic:partition", the key of a bed state's applied offsets (one string per
        # partition, made once per fetch rather than once per message).
        self.source = source or f"{tp.topic}:{tp.partition}"
        self.offset: int = record.offset
        self.key: bytes | None = record.key
        self.value: bytes | None = record.value
        stamp = record.timestamp  # the broker's append (or the producer's create) time
        self.append_ms: int | None = stamp if stamp and stamp > 0 else None
        self.tp = tp
        self.generation_id = generation_id
        self.acked = False


def partition_runs(messages: Sequence[InputMessage]) -> Iterator[Sequence[InputMessage]]:
    """Consecutive messages of one topic-partition (the intake delivers a fetch
    partition by partition): what is looked up per partition is looked up once."""
    if not messages:
        return
    start, tp = 0, messages[0].tp
    for index in range(1, len(messages)):
        # One fetch's messages of a partition share its TP object: identity first.
        current = messages[index].tp
        if current is not tp and current != tp:
            yield messages[start:index]
            start, tp = index, current
    yield messages[start:]
