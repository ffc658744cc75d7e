"""The escalation and safety rules of the clinical source, one pure function each.

A rule reads the evaluation context and its own params (numbers from
``rules/<rule_id>.yaml``) and returns a ``Finding`` when its condition holds,
else None. Rules hold no state of their own: timers live in the bed state
(``Context.held``) so that a restarted worker continues exactly where it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from stream_app.domain.drugs import EPINEPHRINE, NOREPINEPHRINE, VASOPRESSIN, Drug
from stream_app.domain.events import Observation
from stream_app.engine.context import MINUTE_MS, Context, Finding, map_evidence
from stream_app.engine.pack import DoseLimit, HoldMinutes, Minutes, Positive


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


RuleFn = Callable[[Context, Any], Finding | None]


@dataclass(frozen=True)
class RuleDef:
    rule_id: str
    params: type[Params]
    evaluate: RuleFn
    # Time-only rules depend on pump and observation state and elapsed time, not on
    # arterial windows, so clock ticks may evaluate them (a silent bed still alerts).
    time_only: bool = False
    # Drugs that must all be running for the rule to find anything, and the names of
    # its ``Context.held`` timers. Without them, no open episode and no timer running
    # or remembering a break, the rule would return None and change nothing, so the
    # engine need not call it: most beds run norepinephrine alone, and most rules are
    # about the other drugs. A property test holds skipping to evaluating.
    needs: tuple[Drug, ...] = ()
    timers: tuple[str, ...] = ()


def _min(minutes: float) -> int:
    return int(minutes * MINUTE_MS)


# -- add_vasopressin ----------------------------------------------------------------
class AddVasopressin(Params):
    map_low_window_min: Minutes = 10
    ne_dose_threshold: DoseLimit = 15
    ne_dose_unit: Literal["mcg/min", "mcg/kg/min"] = "mcg/min"  # SSC 2021: 0.25-0.5 mcg/kg/min
    ne_dose_hold_min: HoldMinutes = 2


def add_vasopressin(ctx: Context, p: AddVasopressin) -> Finding | None:
    ne = ctx.dose(NOREPINEPHRINE)
    eligible = ne.running and not ctx.running(VASOPRESSIN)
    value = ne.per_min if p.ne_dose_unit == "mcg/min" else ne.per_kg_min
    dose_met = ctx.held(
        "add_vasopressin:dose", eligible and value > p.ne_dose_threshold, _min(p.ne_dose_hold_min)
    )
    if not eligible:
        return None
    low = ctx.map_low(p.map_low_window_min)
    if low is not None and ctx.ran_throughout(NOREPINEPHRINE, _min(p.map_low_window_min)):
        return Finding({**_ne_evidence(ctx), **map_evidence(low), "trigger": "map_low"})
    if dose_met is not None:
        return Finding(
            {
                **_ne_evidence(ctx),
                "trigger": "ne_dose",
                "ne_dose_threshold": p.ne_dose_threshold,
                "ne_dose_unit": p.ne_dose_unit,
            },
            start_ms=dose_met,
        )
    return None


def _ne_evidence(ctx: Context) -> dict[str, object]:
    ne = ctx.dose(NOREPINEPHRINE)
    return {
        "norepinephrine_mcg_min": ne.per_min,
        "norepinephrine_mcg_kg_min": ne.per_kg_min,
        **ctx.weight_evidence(),
    }


# -- vasopressin safety -------------------------------------------------------------
class HoldParams(Params):
    hold_min: HoldMinutes = 2


def vasopressin_monotherapy(ctx: Context, p: HoldParams) -> Finding | None:
    alone = ctx.running(VASOPRESSIN) and not ctx.running(NOREPINEPHRINE)
    met = ctx.held("vasopressin_monotherapy", alone, _min(p.hold_min))
    if met is None:
        return None
    return Finding({"vasopressin_units_min": ctx.dose(VASOPRESSIN).per_min}, start_ms=met)


class CeilingParams(Params):
    ceiling: DoseLimit
    tolerance: DoseLimit = 0.001
    hold_min: HoldMinutes = 1


def vasopressin_above_ceiling(ctx: Context, p: CeilingParams) -> Finding | None:
    dose = ctx.dose(VASOPRESSIN).per_min
    above = dose > p.ceiling + p.tolerance
    met = ctx.held("vasopressin_above_ceiling", above, _min(p.hold_min))
    if met is None:
        return None
    return Finding({"vasopressin_units_min": dose, "ceiling_units_min": p.ceiling}, start_ms=met)


# -- epinephrine --------------------------------------------------------------------
class AddEpinephrine(Params):
    map_low_window_min: Minutes = 15


def add_epinephrine(ctx: Context, p: AddEpinephrine) -> Finding | None:
    window = _min(p.map_low_window_min)
    if ctx.running(EPINEPHRINE) or not (
        ctx.ran_throughout(NOREPINEPHRINE, window) and ctx.ran_throughout(VASOPRESSIN, window)
    ):
        return None
    low = ctx.map_low(p.map_low_window_min)
    if low is None:
        return None
    return Finding(
        {
            "norepinephrine_mcg_min": ctx.dose(NOREPINEPHRINE).per_min,
            "vasopressin_units_min": ctx.dose(VASOPRESSIN).per_min,
            **map_evidence(low),
        }
    )


class TitrationParams(Params):
    max_step_mcg_kg_min: Positive = 0.2
    min_interval_min: HoldMinutes = 10


def epinephrine_titration(ctx: Context, p: TitrationParams) -> Finding | None:
    step = ctx.state.epinephrine_step  # [ts, increase mcg/kg/min, ms since previous or -1]
    if not step or int(step[0]) != ctx.now or ctx.event is None:
        return None
    size, gap = step[1], (None if step[2] < 0 else step[2])
    too_big = size > p.max_step_mcg_kg_min
    too_soon = gap is not None and gap < _min(p.min_interval_min)
    if not (too_big or too_soon):
        return None
    return Finding(
        {
            "increase_mcg_kg_min": round(size, 4),
            "minutes_since_previous_increase": None if gap is None else round(gap / MINUTE_MS, 1),
            "epinephrine_mcg_kg_min": ctx.dose(EPINEPHRINE).per_kg_min,
            **ctx.weight_evidence(),
        }
    )


class DoseRangeParams(Params):
    max_mcg_kg_min: DoseLimit = 2
    hold_min: HoldMinutes = 1


def epinephrine_dose_range(ctx: Context, p: DoseRangeParams) -> Finding | None:
    dose = ctx.dose(EPINEPHRINE).per_kg_min
    met = ctx.held("epinephrine_dose_range", dose > p.max_mcg_kg_min, _min(p.hold_min))
    if met is None:
        return None
    return Finding({"epinephrine_mcg_kg_min": dose, **ctx.weight_evidence()}, start_ms=met)


class NoParams(Params):
    pass


def epinephrine_lactate_caution(ctx: Context, p: NoParams) -> Finding | None:
    event = ctx.event
    if not (isinstance(event, Observation) and event.code == "lactate"):
        return None
    if not ctx.running(EPINEPHRINE):
        return None
    return Finding(
        {
            "lactate_mmol_l": event.value,
            "epinephrine_mcg_kg_min": ctx.dose(EPINEPHRINE).per_kg_min,
        }
    )
