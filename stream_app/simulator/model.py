"""The simulated patient and the feed a bed's gateways would send.

Dose-response (documented in docs/simulator.md): each vasopressor adds an Emax
effect on MAP, ``emax * dose / (ec50 + dose)`` with doses per kg, scaled by the
patient's ``response``; the total approaches its target with a first-order lag
(time constant 2 min) and every sample carries Gaussian noise (sd 2 mmHg) on a
slow drift. Pure and seeded: the same seed gives the same feed, however the time
is sliced into calls.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from stream_app.simulator.scenarios import Scenario

MINUTE_MS = 60_000
LAG_MIN = 2.0
NOISE_SD = 2.0
PULSE_PRESSURE = 45.0
# drug -> (Emax mmHg, EC50 in the drug's per-kg unit, or units/min for vasopressin)
EFFECTS = {
    "norepinephrine": (45.0, 0.12),
    "epinephrine": (40.0, 0.10),
    "phenylephrine": (30.0, 1.0),
    "dopamine": (20.0, 8.0),
    "vasopressin": (15.0, 0.02),
    "dobutamine": (-3.0, 5.0),
}


@dataclass
class BedFeed:
    """Everything one bed sends, generated up to a requested event time."""

    bed_id: str
    scenario: Scenario
    start_ms: int
    seed: int
    rate_hz: float = 1.0
    encounter_id: str = ""
    _rng: random.Random = field(init=False)
    _clock_ms: int = field(init=False)
    _effect: float = 0.0
    _drift: float = 0.0
    _pumps: dict[str, tuple[float, str]] = field(default_factory=dict)
    _pending: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)
    _next_sample_ms: int = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)  # noqa: S311 - a simulation, not secrecy
        self._clock_ms = self.start_ms
        self._next_sample_ms = self.start_ms
        self.encounter_id = self.encounter_id or f"enc-{self.start_ms // 1000}"
        self._pending = sorted(self._scheduled(), key=lambda item: (item[0], item[1]))

    # -- the feed -------------------------------------------------------------
    def until(self, end_ms: int) -> list[dict[str, Any]]:
        """Records with event time before ``end_ms`` not yet returned, in time order."""
        out: list[dict[str, Any]] = []
        period_ms = round(1000 / self.rate_hz)
        while True:
            next_event = self._pending[0][0] if self._pending else None
            if (
                next_event is not None
                and next_event <= self._next_sample_ms
                and next_event < end_ms
            ):
                _, _, record = self._pending.pop(0)
                if record["kind"] == "infusion":
                    self._set_pump(record)
                out.append(record)
                continue
            if self._next_sample_ms >= end_ms:
                return out
            sample = self._sample(self._next_sample_ms, period_ms)
            if sample is not None:
                out.append(sample)
            self._next_sample_ms += period_ms

    # -- physiology -------------------------------------------------------------
    def _target_effect(self) -> float:
        total = 0.0
        for drug, (rate, unit) in self._pumps.items():
            dose = rate / self.scenario.weight_kg if unit == "mcg/min" else rate
            emax, ec50 = EFFECTS[drug]
            total += emax * dose / (ec50 + dose) if dose > 0 else 0.0
        return total * self.scenario.response

    def _sample(self, ts: int, period_ms: int) -> dict[str, Any] | None:
        step_min = period_ms / MINUTE_MS
        self._effect += (self._target_effect() - self._effect) * (1 - math.exp(-step_min / LAG_MIN))
        self._drift = 0.995 * self._drift + self._rng.gauss(0, 0.3)
        mean = self.scenario.untreated_map + self._effect + self._drift
        noisy = mean + self._rng.gauss(0, NOISE_SD)
        heart_rate = self.scenario.heart_rate + self._rng.gauss(0, 3)
        minute = (ts - self.start_ms) / MINUTE_MS
        line = self.scenario.line_minutes
        if line is None or not line[0] <= minute < line[1]:
            return None
        flush = self.scenario.flush_every_min
        if flush and minute > 0 and minute % flush < 5 / 60:  # 5-second flush
            noisy, systolic, diastolic = 300.0, 300.0, 290.0
        else:
            systolic, diastolic = noisy + PULSE_PRESSURE * 2 / 3, noisy - PULSE_PRESSURE / 3
        return {
            **self._head("arterial", ts),
            "map": round(noisy, 1),
            "sbp": round(systolic, 1),
            "dbp": round(diastolic, 1),
            "hr": round(heart_rate),
        }

    def _set_pump(self, record: dict[str, Any]) -> None:
        if record["status"] == "running":
            self._pumps[record["drug"]] = (record["rate"], record["rate_unit"])
        else:
            self._pumps.pop(record["drug"], None)

    # -- what is scheduled ----------------------------------------------------------
    def _head(self, kind: str, ts: int) -> dict[str, Any]:
        return {"kind": kind, "bed_id": self.bed_id, "encounter_id": self.encounter_id, "ts": ts}

    def _at(self, minute: float) -> int:
        return self.start_ms + round(minute * MINUTE_MS)

    def _scheduled(self) -> list[tuple[int, int, dict[str, Any]]]:
        s = self.scenario
        out: list[tuple[int, int, dict[str, Any]]] = []

        def add(minute: float, kind: str, **fields: Any) -> None:
            out.append(
                (self._at(minute), len(out), {**self._head(kind, self._at(minute)), **fields})
            )

        add(0, "observation", code="weight", value=s.weight_kg, unit="kg")
        if s.fluid_bolus_ml:
            add(0, "observation", code="fluid_bolus", value=s.fluid_bolus_ml, unit="mL")
        for action in s.actions:
            pump = {"pump_id": f"pump-{action.drug}", "drug": action.drug, "route": action.route}
            if action.rate > 0:
                add(action.minute, "infusion", **pump, status="running", rate=action.rate,
                    rate_unit=action.unit, weight_kg=s.weight_kg)  # fmt: skip
            else:
                add(action.minute, "infusion", **pump, status="stopped")
        draws = int(48 * 60 / s.lactate_every_min)  # results for two days of a run
        for draw in range(draws if s.lactate is not None else 0):
            minute = 1 + s.lactate_every_min * draw
            assert s.lactate is not None
            value = max(0.5, s.lactate[0] + s.lactate[1] * minute / 60)
            add(minute, "observation", code="lactate", value=round(value, 1), unit="mmol/L")
        for hour in range(48):
            minute = 1 + 60 * hour
            if s.urine_ml_h is not None:
                add(minute, "observation", code="urine_output", value=s.urine_ml_h, unit="mL",
                    period_min=60)  # fmt: skip
        return out
