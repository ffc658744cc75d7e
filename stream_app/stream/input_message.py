"""One consumed input message, as the processor and the acknowledgements read it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import msgspec
from faust.types import TP

from stream_app.domain.events import Event


class InputMessage(msgspec.Struct, gc=False, eq=False):
    """What the worker reads of a consumed input record, and Faust's ``acked`` flag.

    Faust's ``ConsumerMessage`` also carries tracking, tracing, reference counts, sizes
    and a float timestamp the worker never reads: building one per record cost 5% of a
    draining worker. The acknowledgements (``acks.py``) read ``topic``, ``tp``,
    ``offset`` and ``acked`` as Faust's own ``ack`` does.

    Once decoded, the message itself is what the aligner holds (``events``, ``ts``,
    ``received_ms``, set by the processor as it decodes): a holder object and a
    decoding result per message cost as much as the engine's work on a sample.

    A msgspec Struct, like the events: one is built per record, and a Struct's
    positional construction takes about a third of a slotted class's ``__init__``.
    Not tracked by the garbage collector (nothing it holds refers back to it), and
    compared by identity (``eq=False``), as the class it replaced was.
    """

    topic: str
    partition: int
    # "topic:partition", the key of a bed state's applied offsets (one string per
    # partition, made once per fetch rather than once per message).
    source: str
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int  # the record's: the broker's append (or the producer's create) time
    tp: TP
    generation_id: int
    acked: bool = False
    events: Sequence[Event] = ()  # the message's valid events (set when decoded)
    ts: int = 0  # the earliest of their event times, the aligner's order
    received_ms: int = 0  # wall time the worker received it

    @classmethod
    def of(cls, tp: TP, record: Any, generation_id: int, source: str = "") -> InputMessage:
        """The message of one aiokafka record (the intake's fast path builds it
        positionally, with the fields in this order)."""
        return cls(
            tp.topic,
            tp.partition,
            source or f"{tp.topic}:{tp.partition}",
            record.offset,
            record.key,
            record.value,
            record.timestamp,
            tp,
            generation_id,
        )

    @property
    def append_ms(self) -> int | None:
        """The record's time, when it has one (Kafka gives -1 for none)."""
        stamp = self.timestamp
        return stamp if stamp and stamp > 0 else None


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
