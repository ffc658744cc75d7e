"""The one policy for messages that cannot be used: log, count, dead-letter.

A dead letter keeps the original key and value bytes untouched, so nothing is
lost; why it was rejected travels in headers (reason code, readable detail,
source topic, partition, offset). The detail never echoes payload fields.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

from stream_app.metrics import Metrics

log = logging.getLogger("vasowatch.deadletter")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    reason: str
    detail: str
    source_topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    element: int | None = None  # index within a batched message; the value is that element

    def headers(self) -> list[tuple[str, bytes]]:
        element = (
            [] if self.element is None else [("vasowatch.element", str(self.element).encode())]
        )
        return [
            *element,
            ("vasowatch.reason", self.reason.encode()),
            ("vasowatch.detail", self.detail.encode()),
            ("vasowatch.source.topic", self.source_topic.encode()),
            ("vasowatch.source.partition", str(self.partition).encode()),
            ("vasowatch.source.offset", str(self.offset).encode()),
        ]


class Sender(Protocol):
    """What the policy needs from a topic: send bytes with headers, return a future."""

    async def send(self, *, key: Any, value: Any, headers: Any) -> Any: ...


class DeadLetterPolicy:
    """Logs with topic/partition/offset, counts by reason and topic, and produces.

    Every dead letter is counted and produced; log lines are limited to
    ``LOG_BURST`` per reason per ``LOG_PERIOD_S``, the next line saying how many were
    not logged, so a flood of junk cannot flood the logs too.
    """

    LOG_BURST = 20
    LOG_PERIOD_S = 10.0

    def __init__(self, topic: Sender, metrics: Metrics) -> None:
        self._topic = topic
        self._metrics = metrics
        self._window: dict[str, tuple[float, int, int]] = {}  # reason -> start, logged, quiet

    def _may_log(self, reason: str) -> int | None:
        """None to stay quiet; else how many lines of this reason were not logged before."""
        now = time.monotonic()
        start, logged, quiet = self._window.get(reason, (now, 0, 0))
        if now - start >= self.LOG_PERIOD_S:
            start, logged = now, 0
        if logged >= self.LOG_BURST:
            self._window[reason] = (start, logged, quiet + 1)
            return None
        self._window[reason] = (start, logged + 1, 0)
        return quiet

    async def reject(self, letter: DeadLetter) -> Any:
        suppressed = self._may_log(letter.reason)
        if suppressed is not None:
            log.warning(
                "dead letter reason=%s topic=%s partition=%d offset=%d detail=%s%s",
                letter.reason,
                letter.source_topic,
                letter.partition,
                letter.offset,
                letter.detail,
                f" ({suppressed} more of this reason not logged)" if suppressed else "",
            )
        self._metrics.dead_letters.labels(letter.reason, letter.source_topic).inc()
        return await self._topic.send(key=letter.key, value=letter.value, headers=letter.headers())
