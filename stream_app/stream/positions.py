"""What the consumer knows about the broker's side of each input partition.

The aligner asks whether a topic-partition has anything the worker has not yet
received. Faust exposes the high watermark; the time of the last fetch response
and the offset the group resumed from are kept by aiokafka and Faust internally,
hence the guarded attribute access (without them the answer is "not known", and
the aligner falls back to its idle limit).
"""

from __future__ import annotations

from typing import Any

from faust.types import TP


class BrokerPositions:
    def __init__(self, app: Any) -> None:
        self._app = app

    def caught_up(
        self, topic: str, partition: int, last_offset: int | None, fresh_after: int
    ) -> bool:
        """Whether the broker, heard from after ``fresh_after`` (ms), had nothing newer for us.

        Freshness matters when another topic is far ahead: a pump change appended just
        before a sample may be missing from a fetch older than that sample.
        """
        tp = TP(topic, partition)
        consumer = self._app.consumer
        raw = getattr(getattr(consumer, "_thread", None), "_consumer", None)
        polled = raw.last_poll_timestamp(tp) if raw is not None else None
        if polled is None or polled < fresh_after:
            return False
        highwater = consumer.highwater(tp)
        if highwater is None:
            return False
        if last_offset is not None:
            return bool(last_offset + 1 >= highwater)
        if highwater == 0:
            return True
        # Nothing received since assignment: compare with where the group resumed.
        resumed = getattr(consumer, "_read_offset", {}).get(tp)
        return resumed is not None and resumed >= highwater

    def lag(self, topic: str, partition: int, last_offset: int | None) -> int | None:
        """Messages on the broker after the last one received (None when not known)."""
        tp = TP(topic, partition)
        consumer = self._app.consumer
        highwater = consumer.highwater(tp)
        if highwater is None:
            return None
        if last_offset is not None:
            return max(0, int(highwater) - last_offset - 1)
        # Nothing received since assignment: the group resumes from its committed offset.
        resumed = getattr(consumer, "_read_offset", {}).get(tp)
        return None if resumed is None else max(0, int(highwater) - int(resumed))
