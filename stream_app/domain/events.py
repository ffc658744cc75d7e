"""The wire contract of the input topics, as strict pydantic models.

Every model validates one JSON object. ``to_event()`` turns a valid wire object
into the compact, normalised record the engine works on (canonical units, drug
names resolved). ``docs/schemas/`` is generated from these models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, ClassVar, Literal

import msgspec
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from pydantic_core import PydanticCustomError

from stream_app.domain.drugs import Drug, normalise_drug_name
from stream_app.domain.units import (
    CanonicalRate,
    ConcentrationUnit,
    RateUnit,
    UnitMismatch,
    canonical_rate,
)

# 2000-01-01 .. 2100-01-01 in epoch milliseconds: anything outside is a broken clock.
_EARLIEST_MS = 946_684_800_000
_LATEST_MS = 4_102_444_800_000
IDENTIFIER_PATTERN = r"^[A-Za-z0-9._:\-]{1,64}$"


def parse_event_time(value: object) -> int:
    """RFC 3339 with an offset or ``Z``, or integer epoch milliseconds -> epoch ms."""
    if isinstance(value, bool):
        raise PydanticCustomError("wrong_type", "ts must be RFC 3339 text or epoch milliseconds")
    if isinstance(value, int):
        millis = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError("invalid_value", "ts is not an RFC 3339 time") from None
        if parsed.tzinfo is None:
            raise PydanticCustomError("no_timezone", "ts has no time zone offset")
        millis = int(parsed.timestamp() * 1000)
    else:
        raise PydanticCustomError("wrong_type", "ts must be RFC 3339 text or epoch milliseconds")
    if not _EARLIEST_MS <= millis < _LATEST_MS:
        raise PydanticCustomError("invalid_value", "ts is outside 2000-2099")
    return millis


EventTime = Annotated[
    int,
    BeforeValidator(parse_event_time, json_schema_input_type=int | str),
    Field(description="Device event time: RFC 3339 with an offset or Z, or epoch milliseconds"),
]
BedId = Annotated[str, Field(pattern=IDENTIFIER_PATTERN)]
Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN)]


class WireEvent(BaseModel):
    """Fields common to every input event. Unknown fields are ignored, never echoed."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True, allow_inf_nan=False)
    kind: ClassVar[str]

    bed_id: BedId
    ts: EventTime
    encounter_id: Identifier | None = None


class ArterialWire(WireEvent):
    """One arterial-line sample (mmHg, beats/min)."""

    kind: ClassVar[str] = "arterial"
    map: float
    sbp: float | None = None
    dbp: float | None = None
    hr: float | None = None

    def to_event(self) -> ArterialSample:
        return ArterialSample(
            self.bed_id, self.ts, self.encounter_id, self.map, self.sbp, self.dbp, self.hr
        )


class InfusionWire(WireEvent):
    """The state of one infusion pump channel."""

    kind: ClassVar[str] = "infusion"
    pump_id: Identifier
    drug: Annotated[str, Field(min_length=1, max_length=80)]
    status: Literal["running", "paused", "stopped"]
    rate: float | None = None
    rate_unit: RateUnit | None = None
    concentration: Annotated[float, Field(gt=0)] | None = None
    concentration_unit: ConcentrationUnit | None = None
    weight_kg: Annotated[float, Field(gt=0, le=500)] | None = None
    route: Literal["central", "peripheral"] | None = None

    @model_validator(mode="after")
    def _check_dose(self) -> InfusionWire:
        if self.rate is not None and self.rate < 0:
            raise PydanticCustomError("negative_rate", "rate is negative")
        if self.status == "running" and (self.rate is None or self.rate_unit is None):
            raise PydanticCustomError("missing_field", "a running pump needs rate and rate_unit")
        if self.rate_unit == "mL/h" and (
            self.concentration is None or self.concentration_unit is None
        ):
            raise PydanticCustomError(
                "missing_field", "mL/h needs concentration and concentration_unit"
            )
        drug = normalise_drug_name(self.drug)
        if drug is not None and self.rate is not None and self.rate_unit is not None:
            try:
                canonical_rate(
                    drug, self.rate, self.rate_unit, self.concentration, self.concentration_unit
                )
            except UnitMismatch as exc:
                raise PydanticCustomError("unit_mismatch", str(exc)) from None
        return self

    def to_event(self) -> PumpUpdate:
        drug = normalise_drug_name(self.drug)
        dose = CanonicalRate(0.0, per_kg=False)
        if (
            drug is not None
            and self.status == "running"
            and self.rate is not None
            and self.rate_unit is not None
        ):
            dose = canonical_rate(
                drug, self.rate, self.rate_unit, self.concentration, self.concentration_unit
            )
        return PumpUpdate(
            self.bed_id,
            self.ts,
            self.encounter_id,
            self.pump_id,
            drug,
            self.status == "running" and dose.amount_per_min > 0,
            dose.amount_per_min,
            dose.per_kg,
            self.weight_kg,
            self.route,
        )


ObservationCode = Literal["lactate", "urine_output", "fluid_bolus", "hydrocortisone", "weight"]
OBSERVATION_UNITS: dict[str, str] = {
    "lactate": "mmol/L",
    "urine_output": "mL",
    "fluid_bolus": "mL",
    "hydrocortisone": "mg",
    "weight": "kg",
}


class ObservationWire(WireEvent):
    """A lab result, a measured output, a given bolus or dose, or a weight."""

    kind: ClassVar[str] = "observation"
    code: ObservationCode
    value: Annotated[float, Field(ge=0)]
    unit: str
    period_min: Annotated[float, Field(gt=0, le=1440)] | None = None

    @model_validator(mode="after")
    def _check_unit(self) -> ObservationWire:
        expected = OBSERVATION_UNITS[self.code]
        if self.unit != expected:
            raise PydanticCustomError("unit_mismatch", f"{self.code} must be in {expected}")
        if self.code == "urine_output" and self.period_min is None:
            raise PydanticCustomError("missing_field", "urine_output needs period_min")
        if self.code == "weight" and not 0 < self.value <= 500:
            raise PydanticCustomError("invalid_value", "weight must be within 0-500 kg")
        return self

    def to_event(self) -> Observation:
        return Observation(
            self.bed_id, self.ts, self.encounter_id, self.code, self.value, self.period_min
        )


class AckWire(WireEvent):
    """A clinician's acknowledgement of one alert episode."""

    kind: ClassVar[str] = "ack"
    alert_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9._:\-]{1,128}$")]
    by: Identifier | None = None

    def to_event(self) -> Acknowledgement:
        return Acknowledgement(self.bed_id, self.ts, self.encounter_id, self.alert_id, self.by)


WIRE_MODELS: dict[str, type[WireEvent]] = {
    "arterial": ArterialWire,
    "infusion": InfusionWire,
    "observation": ObservationWire,
    "ack": AckWire,
}


# -- normalised records the engine consumes (cheap: slotted, and not frozen) -------------
# A frozen dataclass's __init__ costs four times as much, and one record is built per
# input event. Nothing mutates them; nothing hashes them.


class ArterialSample(msgspec.Struct, gc=False):
    """A msgspec Struct, not a dataclass: one is built per input event, and a Struct
    costs a quarter of a dataclass's ``__init__``; holding only numbers and text, it
    need not be tracked by the garbage collector either."""

    bed_id: str
    ts: int
    encounter_id: str | None
    map: float
    sbp: float | None
    dbp: float | None
    hr: float | None


@dataclass(slots=True)
class PumpUpdate:
    bed_id: str
    ts: int
    encounter_id: str | None
    pump_id: str
    drug: Drug | None  # None: a drug vasowatch does not track
    running: bool
    amount_per_min: float  # canonical: mcg/min (or mcg/kg/min when per_kg), units/min
    per_kg: bool
    weight_kg: float | None
    route: str | None


@dataclass(slots=True)
class Observation:
    bed_id: str
    ts: int
    encounter_id: str | None
    code: str
    value: float
    period_min: float | None


@dataclass(slots=True)
class Acknowledgement:
    bed_id: str
    ts: int
    encounter_id: str | None
    alert_id: str
    by: str | None


Event = ArterialSample | PumpUpdate | Observation | Acknowledgement
