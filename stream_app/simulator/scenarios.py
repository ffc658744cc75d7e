"""The scenario library: one clinical story per bed, covering every rule.

A scenario is data: the patient's untreated MAP and how strongly they respond to
vasopressors, the clinician's actions (pump changes at scenario minutes), when the
arterial line is connected, line flushes, and the hourly lactate and urine output.
Stories that raise an alert are arranged so the first alerts arrive within the first
three minutes of a run; stable beds must stay silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NE, VP, EPI, PE, DA, DOB = (
    "norepinephrine",
    "vasopressin",
    "epinephrine",
    "phenylephrine",
    "dopamine",
    "dobutamine",
)


@dataclass(frozen=True)
class Action:
    """At ``minute``, set pump ``drug`` to ``rate`` ``unit`` (rate 0: stop it)."""

    minute: float
    drug: str
    rate: float
    unit: str
    route: str = "central"


@dataclass(frozen=True)
class Scenario:
    name: str
    story: str
    untreated_map: float  # mmHg without vasopressors
    response: float = 1.0  # 1: a typical responder; below 1: refractory shock
    weight_kg: float = 80.0
    heart_rate: float = 95.0
    actions: tuple[Action, ...] = ()
    line_minutes: tuple[float, float] | None = (0.0, float("inf"))  # arterial line in place
    flush_every_min: float | None = None  # line flushes (artifact samples)
    lactate: tuple[float, float] | None = None  # first value (mmol/L), change per hour
    lactate_every_min: float = 60
    urine_ml_h: float | None = None
    fluid_bolus_ml: float | None = None  # given at minute 0
    alerts: tuple[str, ...] = field(default=())  # rules this story is meant to raise


LIBRARY: tuple[Scenario, ...] = (
    Scenario(
        "responding_to_norepinephrine",
        "Septic shock responding to norepinephrine 8 mcg/min: MAP settles near 72.",
        untreated_map=56,
        actions=(Action(0, NE, 8, "mcg/min"),),
        lactate=(1.6, -0.2),
        urine_ml_h=60,
    ),
    Scenario(
        "refractory_shock",
        "Refractory shock: norepinephrine climbs past 15 mcg/min, vasopressin is added at "
        "minute 6, MAP stays low, epinephrine comes third at minute 30.",
        untreated_map=44,
        response=0.45,
        actions=(
            Action(0, NE, 12, "mcg/min"),
            Action(0.5, NE, 20, "mcg/min"),
            Action(6, VP, 0.03, "units/min"),
            Action(30, EPI, 0.05, "mcg/kg/min"),
        ),
        lactate=(4.5, 0.4),
        urine_ml_h=20,
        alerts=("add_vasopressin", "add_epinephrine"),
    ),
    Scenario(
        "vasopressin_above_ceiling",
        "Vasopressin at 0.06 units/min on top of norepinephrine.",
        untreated_map=46,
        actions=(Action(0, NE, 8, "mcg/min"), Action(0, VP, 0.06, "units/min")),
        alerts=("vasopressin_above_ceiling",),
    ),
    Scenario(
        "renal_dose_dopamine",
        "Dopamine 2 mcg/kg/min 'for the kidneys' beside norepinephrine.",
        untreated_map=60,
        actions=(Action(0, NE, 6, "mcg/min"), Action(0, DA, 2, "mcg/kg/min")),
        urine_ml_h=25,
        alerts=("dopamine_use",),
    ),
    Scenario(
        "forgotten_high_dose",
        "Norepinephrine 14 mcg/min left running after recovery: MAP near 95.",
        untreated_map=74,
        actions=(Action(0, NE, 14, "mcg/min"),),
        alerts=("supranormal_map",),
    ),
    Scenario(
        "lost_arterial_line",
        "The arterial line stops sending at minute 1 while norepinephrine runs.",
        untreated_map=58,
        actions=(Action(0, NE, 8, "mcg/min"),),
        line_minutes=(0, 1),
        alerts=("arterial_feed_stale",),
    ),
    Scenario(
        "line_flush_artifacts",
        "A stable responder whose line is flushed every 5 minutes (artifacts, no alert).",
        untreated_map=58,
        actions=(Action(0, NE, 6, "mcg/min"),),
        flush_every_min=5,
    ),
    Scenario(
        "stable_no_vasopressors",
        "A stable patient without vasopressors: must stay silent.",
        untreated_map=78,
        lactate=(1.2, 0.0),
        urine_ml_h=70,
    ),
    Scenario(
        "phenylephrine_without_reason",
        "Phenylephrine 100 mcg/min with a normal heart rate.",
        untreated_map=58,
        actions=(Action(0, PE, 100, "mcg/min"),),
        alerts=("phenylephrine_use",),
    ),
    Scenario(
        "vasopressin_alone",
        "Vasopressin 0.03 units/min with no norepinephrine.",
        untreated_map=60,
        actions=(Action(0, VP, 0.03, "units/min"),),
        alerts=("vasopressin_monotherapy",),
    ),
    Scenario(
        "epinephrine_misuse",
        "Epinephrine stepped up too fast, then above 2 mcg/kg/min; lactate drawn on it.",
        untreated_map=38,
        response=0.5,
        actions=(
            Action(0, NE, 10, "mcg/min"),
            Action(0, VP, 0.03, "units/min"),
            Action(0, EPI, 0.1, "mcg/kg/min"),
            Action(1, EPI, 0.2, "mcg/kg/min"),
            Action(2, EPI, 2.5, "mcg/kg/min"),
        ),
        lactate=(3.5, 0.2),
        alerts=("epinephrine_titration", "epinephrine_dose_range", "epinephrine_lactate_caution"),
    ),
    Scenario(
        "no_arterial_line",
        "Norepinephrine through a peripheral cannula and no arterial line at all.",
        untreated_map=60,
        actions=(Action(0, NE, 5, "mcg/min", route="peripheral"),),
        line_minutes=None,
        alerts=("arterial_line_missing", "peripheral_vasopressor"),
    ),
    Scenario(
        "excess_vasoconstriction",
        "Norepinephrine 0.55 mcg/kg/min and vasopressin with MAP on target, but lactate "
        "rising (measured every 10 minutes) and little urine.",
        untreated_map=42,
        response=0.8,
        actions=(Action(0, NE, 0.55, "mcg/kg/min"), Action(0, VP, 0.03, "units/min")),
        lactate=(3.2, 3.0),
        lactate_every_min=10,
        urine_ml_h=15,
        alerts=("excess_vasoconstriction",),
    ),
    Scenario(
        "hypoperfusion_on_target",
        "MAP on target on modest norepinephrine, but lactate high and urine scant.",
        untreated_map=55,
        actions=(Action(0, NE, 8, "mcg/min"),),
        lactate=(4.0, 0.1),
        urine_ml_h=15,
        alerts=("consider_dobutamine",),
    ),
    Scenario(
        "fluids_then_vasopressin",
        "Only 1000 mL of crystalloid before vasopressin is started at minute 1.",
        untreated_map=48,
        actions=(Action(0, NE, 8, "mcg/min"), Action(1, VP, 0.03, "units/min")),
        fluid_bolus_ml=1000,
        alerts=("fluid_resuscitation_incomplete",),
    ),
    Scenario(
        "dobutamine_tachycardia",
        "Dobutamine 10 mcg/kg/min beside norepinephrine with a heart rate near 140.",
        untreated_map=58,
        heart_rate=140,
        actions=(Action(0, NE, 8, "mcg/min"), Action(0, DOB, 10, "mcg/kg/min")),
        alerts=("dobutamine_stop",),
    ),
    Scenario(
        "two_pressors_map_low",
        "Norepinephrine and vasopressin, MAP still low for half an hour.",
        untreated_map=42,
        response=0.4,
        actions=(Action(0, NE, 12, "mcg/min"), Action(0, VP, 0.03, "units/min")),
        alerts=("add_epinephrine", "consider_hydrocortisone"),
    ),
)


def scenario_for(bed_index: int) -> Scenario:
    """Beds take the library in order; the rest of a large unit is stable."""
    if bed_index < len(LIBRARY):
        return LIBRARY[bed_index]
    stable = [s for s in LIBRARY if not s.alerts]
    return stable[bed_index % len(stable)]
