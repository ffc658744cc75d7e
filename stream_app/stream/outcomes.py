"""Where a processed message's effects go: transitions to ``icu.alerts``, rejections to
the dead-letter topic, engine notes to counters.

Each send returns the delivery future; the processor awaits them all before it writes
bed states and acknowledges, which is what makes a crash lose no alert.
"""

from __future__ import annotations

import time
from typing import Any

from stream_app.domain.codec import Rejection
from stream_app.engine.engine import Step
from stream_app.engine.lifecycle import Transition
from stream_app.metrics import Metrics
from stream_app.stream.deadletter import DeadLetter, DeadLetterPolicy
from stream_app.stream.emitter import AlertEmitter
from stream_app.stream.input_message import InputMessage


def wall_ms() -> int:
    return int(time.time() * 1000)


class Outcomes:
    def __init__(
        self, emitter: AlertEmitter, deadletters: DeadLetterPolicy, metrics: Metrics
    ) -> None:
        self._emitter = emitter
        self._deadletters = deadletters
        self._metrics = metrics
        # labels() costs more than the engine's work on a sample; notes come from a
        # small fixed vocabulary, so each note's counter is looked up once.
        self._note_counters: dict[str, Any] = {}

    def _note_counter(self, note: str) -> Any:
        counter = self._note_counters.get(note)
        if counter is None:
            if note.startswith("artifact:"):
                counter = self._metrics.artifacts.labels(note.split(":", 1)[1])
            else:
                counter = self._metrics.event_notes.labels(note)
            self._note_counters[note] = counter
        return counter

    async def of_step(self, step: Step, message: InputMessage, event_ms: int) -> list[Any]:
        """Count the step's notes; send its rejection and transitions."""
        futures = []
        for note in step.notes:
            self._note_counter(note).inc()
        if step.rejection is not None:
            futures.append(
                await self.reject(
                    step.rejection,
                    message.topic,
                    message.partition,
                    message.offset,
                    message.key,
                    message.value,
                )
            )
        for transition in step.transitions:
            futures.append(
                await self.emit(
                    transition,
                    event_ms,
                    message.append_ms,
                    (message.topic, message.partition, message.offset),
                )
            )
        return futures

    async def emit(
        self,
        transition: Transition,
        event_ms: int | None,
        append_ms: int | None,
        source: tuple[str, int, int] | None = None,
    ) -> Any:
        if append_ms is not None:
            lag = max(0.0, (wall_ms() - append_ms) / 1000)
            self._metrics.append_to_alert_seconds.observe(lag)
        return await self._emitter.emit(transition, event_ms, source)

    async def reject(
        self,
        rejection: Rejection,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None = None,
    ) -> Any:
        return await self._deadletters.reject(
            DeadLetter(
                rejection.reason,
                rejection.detail,
                topic,
                partition,
                offset,
                key,
                rejection.element_bytes if rejection.element_bytes is not None else value,
                rejection.element,
            )
        )

    async def send_document(self, document: Any) -> Any:
        return await self._emitter.send_document(document)
