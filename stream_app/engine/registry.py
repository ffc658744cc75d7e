"""Every rule the engine knows, with its params model. Rule ids are part of the interface."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from stream_app.domain.drugs import Drug
from stream_app.engine import rules as esc
from stream_app.engine import rules_perfusion as perf
from stream_app.engine import rules_safety as safety
from stream_app.engine.pack import RulePack, load_pack
from stream_app.engine.rules import RuleDef

NE, VASOPRESSIN, EPINEPHRINE = Drug.NOREPINEPHRINE, Drug.VASOPRESSIN, Drug.EPINEPHRINE

RULES: tuple[RuleDef, ...] = (
    RuleDef("add_vasopressin", esc.AddVasopressin, esc.add_vasopressin),
    RuleDef(
        "vasopressin_monotherapy",
        esc.HoldParams,
        esc.vasopressin_monotherapy,
        time_only=True,
        needs=(VASOPRESSIN,),
        timers=("vasopressin_monotherapy",),
    ),
    RuleDef(
        "vasopressin_above_ceiling",
        esc.CeilingParams,
        esc.vasopressin_above_ceiling,
        time_only=True,
        needs=(VASOPRESSIN,),
        timers=("vasopressin_above_ceiling",),
    ),
    RuleDef("add_epinephrine", esc.AddEpinephrine, esc.add_epinephrine, needs=(NE, VASOPRESSIN)),
    RuleDef("epinephrine_titration", esc.TitrationParams, esc.epinephrine_titration),
    RuleDef(
        "epinephrine_dose_range",
        esc.DoseRangeParams,
        esc.epinephrine_dose_range,
        time_only=True,
        needs=(EPINEPHRINE,),
        timers=("epinephrine_dose_range",),
    ),
    RuleDef(
        "epinephrine_lactate_caution",
        esc.NoParams,
        esc.epinephrine_lactate_caution,
        needs=(EPINEPHRINE,),
    ),
    RuleDef("consider_hydrocortisone", perf.Hydrocortisone, perf.consider_hydrocortisone),
    RuleDef("consider_dobutamine", perf.PerfusionParams, perf.consider_dobutamine),
    RuleDef("excess_vasoconstriction", perf.PerfusionParams, perf.excess_vasoconstriction),
    RuleDef("dobutamine_stop", perf.DobutamineStop, perf.dobutamine_stop, needs=(Drug.DOBUTAMINE,)),
    RuleDef(
        "dopamine_use",
        safety.DopamineParams,
        safety.dopamine_use,
        time_only=True,
        needs=(Drug.DOPAMINE,),
        timers=("dopamine_use",),
    ),
    RuleDef(
        "phenylephrine_use",
        esc.HoldParams,
        safety.phenylephrine_use,
        time_only=True,
        needs=(Drug.PHENYLEPHRINE,),
        timers=("phenylephrine_use",),
    ),
    RuleDef("supranormal_map", safety.WindowParams, safety.supranormal_map),
    RuleDef("arterial_feed_stale", safety.StaleParams, safety.arterial_feed_stale, time_only=True),
    RuleDef("arterial_line_missing", safety.LineMissingParams, safety.arterial_line_missing, True),
    RuleDef(
        "peripheral_vasopressor",
        safety.PeripheralParams,
        safety.peripheral_vasopressor,
        time_only=True,
    ),
    RuleDef(
        "fluid_resuscitation_incomplete",
        safety.FluidParams,
        safety.fluid_resuscitation_incomplete,
        needs=(VASOPRESSIN,),
    ),
)

PARAM_MODELS: dict[str, type[BaseModel]] = {rule.rule_id: rule.params for rule in RULES}


def load_rule_pack(directory: Path) -> RulePack:
    """Load and validate the pack in ``directory`` against every known rule's params model."""
    return load_pack(directory, PARAM_MODELS)
