"""Dose units and their conversion to canonical units.

Canonical: catecholamines in mcg/min (or mcg/kg/min, converted through the bed's
weight by the engine), vasopressin in units/min.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from stream_app.domain.drugs import Drug

RateUnit = Literal["mcg/min", "mcg/kg/min", "units/min", "units/h", "mg/h", "mL/h"]
ConcentrationUnit = Literal["mcg/mL", "mg/mL", "units/mL"]

RATE_UNITS: tuple[RateUnit, ...] = ("mcg/min", "mcg/kg/min", "units/min", "units/h", "mg/h", "mL/h")
CONCENTRATION_UNITS: tuple[ConcentrationUnit, ...] = ("mcg/mL", "mg/mL", "units/mL")

_MICROGRAM_RATE_UNITS = frozenset({"mcg/min", "mcg/kg/min", "mg/h"})
_UNIT_RATE_UNITS = frozenset({"units/min", "units/h"})


class UnitMismatch(ValueError):
    """A unit that does not fit the drug (vasopressin in mcg/kg/min, and the like)."""


@dataclass(frozen=True, slots=True)
class CanonicalRate:
    """A dose rate in the drug's canonical unit per minute; ``per_kg`` for weight-based rates."""

    amount_per_min: float
    per_kg: bool


def canonical_rate(
    drug: Drug,
    rate: float,
    rate_unit: RateUnit,
    concentration: float | None = None,
    concentration_unit: ConcentrationUnit | None = None,
) -> CanonicalRate:
    """Convert a pump rate to canonical units, or raise ``UnitMismatch``."""
    measured_in_units = drug is Drug.VASOPRESSIN
    if rate_unit == "mL/h":
        if concentration is None or concentration_unit is None:
            raise UnitMismatch("mL/h needs concentration and concentration_unit")
        if (concentration_unit == "units/mL") != measured_in_units:
            raise UnitMismatch(f"{concentration_unit} does not fit {drug.value}")
        per_ml = concentration * (1000.0 if concentration_unit == "mg/mL" else 1.0)
        return CanonicalRate(rate * per_ml / 60.0, per_kg=False)
    fits = _UNIT_RATE_UNITS if measured_in_units else _MICROGRAM_RATE_UNITS
    if rate_unit not in fits:
        raise UnitMismatch(f"{rate_unit} does not fit {drug.value}")
    if rate_unit == "mcg/kg/min":
        return CanonicalRate(rate, per_kg=True)
    if rate_unit == "mg/h":
        return CanonicalRate(rate * 1000.0 / 60.0, per_kg=False)
    if rate_unit == "units/h":
        return CanonicalRate(rate / 60.0, per_kg=False)
    return CanonicalRate(rate, per_kg=False)  # mcg/min, units/min
