"""Adjunct and perfusion rules: hydrocortisone, dobutamine, excessive vasoconstriction.

Perfusion markers come from observations (lactate, urine output); see
``perfusion.py`` for how trends and rates are read from the bed state.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from stream_app.domain.drugs import DOBUTAMINE, PHENYLEPHRINE, VASOPRESSIN
from stream_app.engine.context import HOUR_MS, Context, Finding, map_evidence
from stream_app.engine.pack import DoseLimit, Fraction, Hours, Minutes, Positive
from stream_app.engine.perfusion import lactate_trend, urine_rate
from stream_app.engine.rules import Params, _min


# -- adjuncts and perfusion ---------------------------------------------------------
class Hydrocortisone(Params):
    map_low_window_min: Minutes = 30
    min_vasopressors: Annotated[int, Field(ge=1, le=5)] = 2
    ne_equivalent_threshold: Positive = 0.25
    ne_equivalent_hold_h: Hours = 4
    recent_dose_h: Hours = 24


def consider_hydrocortisone(ctx: Context, p: Hydrocortisone) -> Finding | None:
    load_met = ctx.held(
        "consider_hydrocortisone:load",
        ctx.ne_equivalent >= p.ne_equivalent_threshold,
        int(p.ne_equivalent_hold_h * HOUR_MS),
    )
    given = ctx.state.hydrocortisone_ms
    if given is not None and ctx.now - given < p.recent_dose_h * HOUR_MS:
        return None
    window = _min(p.map_low_window_min)
    throughout = [d for d in ctx.vasopressors_running if ctx.ran_throughout(d, window)]
    if len(throughout) >= p.min_vasopressors:
        low = ctx.map_low(p.map_low_window_min)
        if low is not None:
            return Finding(
                {**_load_evidence(ctx), **map_evidence(low), "trigger": "refractory_map"}
            )
    if load_met is not None:
        return Finding({**_load_evidence(ctx), "trigger": "ne_equivalent"}, start_ms=load_met)
    return None


def _load_evidence(ctx: Context) -> dict[str, object]:
    return {
        "vasopressors": [d.value for d in ctx.vasopressors_running],
        "ne_equivalent_mcg_kg_min": ctx.ne_equivalent,
        **ctx.weight_evidence(),
    }


class PerfusionParams(Params):
    map_window_min: Minutes = 30
    lactate_threshold_mmol_l: Positive = 2
    lactate_change_fraction: Fraction = 0.10
    lactate_window_h: Hours = 6
    urine_threshold_ml_kg_h: Positive = 0.5
    urine_window_h: Hours = 2
    urine_coverage_fraction: Fraction = 0.75
    high_ne_equivalent: Positive = 0.5
    vasopressin_ceiling: DoseLimit = 0.04
    vasopressin_tolerance: DoseLimit = 0.001


def _hypoperfusion(ctx: Context, p: PerfusionParams, *, rising: bool) -> dict[str, object] | None:
    """Lactate (persistently high, or rising when ``rising``) or low urine output."""
    trend = lactate_trend(ctx.state, ctx.now, int(p.lactate_window_h * HOUR_MS))
    if trend is not None and trend.latest >= p.lactate_threshold_mmol_l:
        change = trend.change
        if rising:
            signal = change is not None and change >= p.lactate_change_fraction
        else:
            signal = change is None or change > -p.lactate_change_fraction
        if signal:
            return {
                "lactate_mmol_l": trend.latest,
                "lactate_previous_mmol_l": trend.previous,
                "lactate_change": None if change is None else round(change, 3),
            }
    kg, _ = ctx.weight
    urine = urine_rate(ctx.state, ctx.now, p.urine_window_h * 60, kg)
    if (
        urine is not None
        and urine.covered_min >= p.urine_coverage_fraction * p.urine_window_h * 60
        and urine.ml_per_kg_h < p.urine_threshold_ml_kg_h
    ):
        return {"urine_ml_kg_h": urine.ml_per_kg_h, "urine_covered_min": urine.covered_min}
    return None


def _high_load(ctx: Context, p: PerfusionParams) -> bool:
    return (
        ctx.ne_equivalent >= p.high_ne_equivalent
        or ctx.dose(VASOPRESSIN).per_min > p.vasopressin_ceiling + p.vasopressin_tolerance
        or ctx.running(PHENYLEPHRINE)
    )


def consider_dobutamine(ctx: Context, p: PerfusionParams) -> Finding | None:
    if not ctx.vasopressors_running or ctx.running(DOBUTAMINE) or _high_load(ctx, p):
        return None
    signs = _hypoperfusion(ctx, p, rising=False)  # cheaper than the windows: asked first
    if signs is None:
        return None
    adequate = ctx.map_adequate(p.map_window_min)
    if adequate is None or ctx.map_high(p.map_window_min) is not None:
        return None
    return Finding({**signs, **map_evidence(adequate), **ctx.weight_evidence()})


def excess_vasoconstriction(ctx: Context, p: PerfusionParams) -> Finding | None:
    if not (_high_load(ctx, p) or ctx.map_high(p.map_window_min) is not None):
        return None
    adequate = ctx.map_adequate(p.map_window_min)
    if adequate is None:
        return None
    signs = _hypoperfusion(ctx, p, rising=True)
    if signs is None:
        return None
    return Finding(
        {
            **signs,
            **map_evidence(adequate),
            "ne_equivalent_mcg_kg_min": ctx.ne_equivalent,
            "vasopressin_units_min": ctx.dose(VASOPRESSIN).per_min,
            "phenylephrine_running": ctx.running(PHENYLEPHRINE),
            **ctx.weight_evidence(),
        }
    )


class DobutamineStop(Params):
    map_low_window_min: Minutes = 10
    heart_rate_window_min: Minutes = 5


def dobutamine_stop(ctx: Context, p: DobutamineStop) -> Finding | None:
    if not ctx.running(DOBUTAMINE):
        return None
    evidence: dict[str, object] = {"dobutamine_mcg_kg_min": ctx.dose(DOBUTAMINE).per_kg_min}
    low = ctx.map_low(p.map_low_window_min)
    if low is not None and ctx.ran_throughout(DOBUTAMINE, _min(p.map_low_window_min)):
        return Finding({**evidence, **map_evidence(low), "trigger": "worsening_hypotension"})
    hr = ctx.window(p.heart_rate_window_min)
    m = ctx.pack.settings.map
    if (
        hr.hr_samples
        and hr.covered(m.coverage_fraction)
        and hr.fraction_hr_high > m.mostly_fraction
    ):
        return Finding(
            {
                **evidence,
                "trigger": "tachycardia",
                "heart_rate_fraction_high": round(hr.fraction_hr_high, 3),
                "heart_rate_window_min": p.heart_rate_window_min,
            }
        )
    return None
