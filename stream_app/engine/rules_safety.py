"""Safety and monitoring rules: agents to avoid, supranormal pressure, lines and fluids."""

from __future__ import annotations

from stream_app.domain.drugs import DOPAMINE, PHENYLEPHRINE, VASOPRESSIN
from stream_app.engine.context import Context, Finding, map_evidence
from stream_app.engine.pack import DoseLimit, HoldMinutes, Hours, Minutes, Positive, Severity
from stream_app.engine.rules import HoldParams, Params, _min


class DopamineParams(Params):
    hold_min: HoldMinutes = 1
    renal_dose_max_mcg_kg_min: DoseLimit = 3
    renal_dose_severity: Severity = "high"
    other_severity: Severity = "medium"


def dopamine_use(ctx: Context, p: DopamineParams) -> Finding | None:
    dose = ctx.dose(DOPAMINE).per_kg_min
    met = ctx.held("dopamine_use", dose > 0, _min(p.hold_min))
    if met is None:
        return None
    renal = dose <= p.renal_dose_max_mcg_kg_min
    return Finding(
        {"dopamine_mcg_kg_min": dose, "renal_dose": renal, **ctx.weight_evidence()},
        start_ms=met,
        severity=p.renal_dose_severity if renal else p.other_severity,
    )


def phenylephrine_use(ctx: Context, p: HoldParams) -> Finding | None:
    dose = ctx.dose(PHENYLEPHRINE)
    met = ctx.held("phenylephrine_use", dose.running, _min(p.hold_min))
    if met is None:
        return None
    return Finding(
        {"phenylephrine_mcg_min": dose.per_min, "phenylephrine_mcg_kg_min": dose.per_kg_min},
        start_ms=met,
    )


class WindowParams(Params):
    map_window_min: Minutes = 15


def supranormal_map(ctx: Context, p: WindowParams) -> Finding | None:
    if not ctx.vasopressors_running:
        return None
    high = ctx.map_high(p.map_window_min)
    if high is None:
        return None
    return Finding(
        {"vasopressors": [d.value for d in ctx.vasopressors_running], **map_evidence(high)}
    )


class StaleParams(Params):
    silent_min: Minutes = 2


def arterial_feed_stale(ctx: Context, p: StaleParams) -> Finding | None:
    last = ctx.state.last_arterial_ms
    if last is None or not ctx.vasopressors_running:
        return None
    silent_since = last + _min(p.silent_min)
    if ctx.now < silent_since:
        return None
    # The episode starts when the line had been silent long enough while a vasopressor
    # ran, however late that is noticed (a tick, or the next pump event).
    start = max(silent_since, ctx.since_any_vasopressor or silent_since)
    return Finding(
        {
            "last_sample_age_min": round((ctx.now - last) / 60_000, 1),
            "vasopressors": [d.value for d in ctx.vasopressors_running],
        },
        start_ms=start,
    )


class LineMissingParams(Params):
    hold_min: HoldMinutes = 15


def arterial_line_missing(ctx: Context, p: LineMissingParams) -> Finding | None:
    since = ctx.since_any_vasopressor
    if since is None or ctx.state.first_arterial_ms is not None:
        return None
    met = since + _min(p.hold_min)
    if ctx.now < met:
        return None
    return Finding(
        {
            "vasopressor_minutes_without_arterial_line": round((ctx.now - since) / 60_000),
            "vasopressors": [d.value for d in ctx.vasopressors_running],
        },
        start_ms=met,
    )


class PeripheralParams(Params):
    hold_h: Hours = 6


def peripheral_vasopressor(ctx: Context, p: PeripheralParams) -> Finding | None:
    peripheral = ctx.peripheral_vasopressors
    met = ctx.held("peripheral_vasopressor", bool(peripheral), _min(p.hold_h * 60))
    if met is None:
        return None
    return Finding({"peripheral_drugs": list(peripheral), "hours": p.hold_h}, start_ms=met)


class FluidParams(Params):
    min_crystalloid_ml_kg: Positive = 30


def fluid_resuscitation_incomplete(ctx: Context, p: FluidParams) -> Finding | None:
    state = ctx.state
    if not state.fluid_recorded or not ctx.running(VASOPRESSIN):
        return None
    kg, _ = ctx.weight
    given = state.fluid_ml / kg
    if given >= p.min_crystalloid_ml_kg:
        return None
    return Finding(
        {
            "crystalloid_ml_kg": round(given, 1),
            "crystalloid_ml": state.fluid_ml,
            **ctx.weight_evidence(),
        }
    )
