"""Producing what the engine decided: alert transitions and dead letters, logged and counted."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from stream_app.engine.alerts import render_alert
from stream_app.engine.lifecycle import Transition
from stream_app.engine.pack import RulePack
from stream_app.metrics import Metrics

log = logging.getLogger("vasowatch.alerts")


class AlertEmitter:
    def __init__(self, topic: Any, pack: RulePack, metrics: Metrics) -> None:
        self._topic = topic
        self._pack = pack
        self._metrics = metrics

    async def emit(
        self,
        transition: Transition,
        source_ts_ms: int | None = None,
        source: tuple[str, int, int] | None = None,
    ) -> Any:
        """Send one transition (key: bed id); returns the delivery future to await.

        ``source`` is the topic, partition and offset of the message that caused it
        (none for transitions of a clock tick).
        """
        where = dict(zip(("topic", "partition", "offset"), source, strict=True)) if source else {}
        now_ms = int(time.time() * 1000)
        document = render_alert(transition, self._pack, now_ms)
        log.info(
            "alert %s %s bed=%s notification=%d",
            transition.rule_id,
            transition.status,
            transition.bed_id,
            transition.notification,
            extra={
                "alert_id": transition.alert_id,
                "bed_id": transition.bed_id,
                "rule_id": transition.rule_id,
                "status": transition.status,
                "severity": transition.severity,
                "notification": transition.notification,
                **where,
            },
        )
        self._metrics.alerts_emitted.labels(
            transition.rule_id, transition.severity, transition.status
        ).inc()
        if source_ts_ms is not None:
            self._metrics.event_to_alert_seconds.observe(max(0.0, (now_ms - source_ts_ms) / 1000))
        return await self._topic.send(key=transition.bed_id.encode(), value=orjson.dumps(document))

    async def send_document(self, document: dict[str, Any]) -> Any:
        """Send an alert document built outside the engine (the worker's own alerts)."""
        self._metrics.alerts_emitted.labels(
            document["rule_id"], document["severity"], document["status"]
        ).inc()
        return await self._topic.send(
            key=str(document["bed_id"]).encode(), value=orjson.dumps(document)
        )
