"""Alerting on the worker's own blindness: an owned input partition that has gone silent.

When no message at all has arrived on any input topic of a partition this worker
owns for ``VASOWATCH_PARTITION_SILENCE_S``, every bed of that partition is
unwatched. That is an alert in its own right, on ``icu.alerts`` like any other
(``rule_id`` ``partition_silent``, ``bed_id`` ``vasowatch-partition-N``), with a
gauge and a log line, and it resolves when the partition speaks again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stream_app.domain.alerts import iso_ms

log = logging.getLogger("vasowatch.blindness")

RULE_ID = "partition_silent"


@dataclass
class BlindnessWatch:
    app_id: str
    silence_ms: int
    rulepack_version: str
    # Called with a partition number as it goes silent: the worker logs what its
    # consumer knows then (a partition never fetched after a rebalance, faust-streaming
    # issue #629, looks silent too, and nobody may be there to send SIGUSR1).
    on_silent: Callable[[int], None] | None = None
    _silent_since: dict[int, int] = field(default_factory=dict)

    def check(self, last_heard: dict[int, int], now_ms: int) -> list[dict[str, Any]]:
        """Alert documents for partitions that went silent or spoke again since last check."""
        out = []
        for partition, heard in sorted(last_heard.items()):
            silent = now_ms - heard >= self.silence_ms
            since = self._silent_since.get(partition)
            if silent and since is None:
                start = heard + self.silence_ms
                self._silent_since[partition] = start
                log.warning("input partition silent", extra={"partition": partition})
                if self.on_silent is not None:
                    self.on_silent(partition)
                out.append(self._document(partition, start, "firing", now_ms, heard))
            elif not silent and since is not None:
                del self._silent_since[partition]
                log.info("input partition speaks again", extra={"partition": partition})
                out.append(self._document(partition, since, "resolved", now_ms, heard))
        for partition in [p for p in self._silent_since if p not in last_heard]:
            del self._silent_since[partition]  # no longer ours: its new owner watches it
        return out

    def silent(self) -> set[int]:
        return set(self._silent_since)

    def _document(
        self, partition: int, start: int, status: str, now_ms: int, heard: int
    ) -> dict[str, Any]:
        text = f"{self.app_id}|{RULE_ID}|{partition}|{start}"
        return {
            "alert_id": hashlib.blake2b(text.encode(), digest_size=10).hexdigest(),
            "bed_id": f"vasowatch-partition-{partition}",
            "encounter_id": None,
            "rule_id": RULE_ID,
            "severity": "high",
            "status": status,
            "notification": 1,
            "title": f"vasowatch receives nothing on input partition {partition}",
            "recommendation": "Check the monitor and pump gateways and the Kafka broker: "
            "beds on this partition are not being watched.",
            "rationale": "No message on any input topic of this partition for "
            f"{self.silence_ms // 1000} s.",
            "citation": "Operational alert of vasowatch itself (alert on our own blindness).",
            "evidence": {"partition": partition, "silent_s": round((now_ms - heard) / 1000)},
            "started_at": iso_ms(start),
            "event_ts": iso_ms(start if status == "firing" else now_ms),
            "emitted_at": iso_ms(now_ms),
            "rulepack_version": self.rulepack_version,
            "acknowledged_by": None,
        }
