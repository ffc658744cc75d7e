"""A tiny language for writing scenario files in replay form.

Times are minutes from the scenario's start; the output is JSON Lines that
``vasowatch replay`` reads, with ``comment`` records saying what happens, so a
clinician can read a scenario file top to bottom.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

START_MS = 1_772_352_000_000  # 2026-03-01T08:00:00Z
MINUTE_MS = 60_000


@dataclass
class Scenario:
    name: str
    bed: str = ""  # defaults to the scenario's name: every scenario has a bed of its own
    encounter: str | None = "enc-1"
    records: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bed = self.bed or self.name[:64]

    def _add(self, minute: float, record: dict[str, Any]) -> None:
        ts = START_MS + round(minute * MINUTE_MS)
        self.records.append((ts, len(self.records), record))

    def _event(self, minute: float, kind: str, **fields: Any) -> Scenario:
        record: dict[str, Any] = {"kind": kind, "bed_id": self.bed}
        if self.encounter is not None:
            record["encounter_id"] = self.encounter
        record["ts"] = START_MS + round(minute * MINUTE_MS)
        record.update({k: v for k, v in fields.items() if v is not None})
        self._add(minute, record)
        return self

    def comment(self, minute: float, text: str) -> Scenario:
        self._add(minute, {"kind": "comment", "text": f"[{minute:g} min] {text}"})
        return self

    def pump(
        self,
        minute: float,
        drug: str,
        rate: float,
        unit: str,
        *,
        pump: str | None = None,
        status: str = "running",
        route: str | None = None,
        weight_kg: float | None = None,
    ) -> Scenario:
        return self._event(
            minute,
            "infusion",
            pump_id=pump or f"pump-{drug}",
            drug=drug,
            status=status,
            rate=rate,
            rate_unit=unit,
            route=route,
            weight_kg=weight_kg,
        )

    def stop(self, minute: float, drug: str, *, pump: str | None = None) -> Scenario:
        return self._event(
            minute, "infusion", pump_id=pump or f"pump-{drug}", drug=drug, status="stopped"
        )

    def map(
        self,
        start: float,
        end: float,
        value: float,
        *,
        every_s: int = 10,
        hr: float | None = None,
        sbp: float | None = None,
        dbp: float | None = None,
    ) -> Scenario:
        """Arterial samples from ``start`` (inclusive) to ``end`` (exclusive) minutes."""
        steps = round((end - start) * 60 / every_s)
        for i in range(steps):
            self._event(start + i * every_s / 60, "arterial", map=value, hr=hr, sbp=sbp, dbp=dbp)
        return self

    def observe(
        self, minute: float, code: str, value: float, unit: str, period_min: float | None = None
    ) -> Scenario:
        return self._event(
            minute, "observation", code=code, value=value, unit=unit, period_min=period_min
        )

    def ack(self, minute: float, alert_id: str, by: str = "nurse-7") -> Scenario:
        return self._event(minute, "ack", alert_id=alert_id, by=by)

    def ticks(self, start: float, end: float, every_min: float = 1) -> Scenario:
        minute = start
        while minute < end:
            self._add(minute, {"kind": "tick", "ts": START_MS + round(minute * MINUTE_MS)})
            minute += every_min
        return self

    def lines(self, *, ordered: bool = True) -> list[bytes]:
        records = sorted(self.records, key=lambda r: (r[0], r[1])) if ordered else self.records
        return [orjson.dumps(record) for _, _, record in records]

    def write(self, folder: Path) -> Path:
        path = folder / f"{self.name}.jsonl"
        path.write_bytes(b"\n".join(self.lines()) + b"\n")
        return path


def at(minute: float) -> int:
    """Epoch ms of a scenario minute (for expectations)."""
    return START_MS + round(minute * MINUTE_MS)
