"""Per-bed running summary: the first slice of per-bed state.

Kept deliberately small; the rule engine replaces it with the full bed state.
Pure: no I/O, event time only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import orjson


@dataclass(slots=True)
class BedSummary:
    """What the worker knows about one bed so far."""

    bed_id: str
    arterial_samples: int = 0
    infusion_events: int = 0
    last_map: float | None = None
    last_event_ms: int | None = None

    def to_bytes(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_bytes(cls, blob: bytes) -> BedSummary:
        return cls(**orjson.loads(blob))


def apply_event(summary: BedSummary, kind: str, event: dict[str, Any], ts_ms: int) -> BedSummary:
    """Fold one decoded event into the bed's summary (mutates and returns it)."""
    if kind == "arterial":
        summary.arterial_samples += 1
        if summary.last_event_ms is None or ts_ms >= summary.last_event_ms:
            summary.last_map = float(event["map"])
    elif kind == "infusion":
        summary.infusion_events += 1
    if summary.last_event_ms is None or ts_ms > summary.last_event_ms:
        summary.last_event_ms = ts_ms
    return summary
