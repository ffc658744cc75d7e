"""Every scenario, with what it must produce. ``python -m tests.scenarios.catalogue`` rewrites
the ``.jsonl`` files next to this module; a test checks that they are current.

Each expectation is (rule, status, notification, earliest minute, latest minute) of
the transition's event time; ``silent`` names rules that must not fire at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tests.scenarios.builder import Scenario

FOLDER = Path(__file__).parent
NE, VP, EPI = "norepinephrine", "vasopressin", "epinephrine"


@dataclass
class Case:
    scenario: Scenario
    expect: list[tuple[str, str, int, float, float]] = field(default_factory=list)
    silent: list[str] = field(default_factory=list)


def _add_vasopressin() -> list[Case]:
    low = (
        Scenario("add_vasopressin_map_low")
        .comment(0, "norepinephrine 10 mcg/min; MAP 58 for 20 min, then 72")
        .pump(0, NE, 10, "mcg/min")
        .map(0, 20, 58)
        .map(20, 40, 72)
    )
    short = (
        Scenario("add_vasopressin_map_low_too_short")
        .comment(0, "norepinephrine 10 mcg/min; MAP 58 for only 4.5 of every 10 minutes")
        .pump(0, NE, 10, "mcg/min")
        .map(0, 4.5, 58)
        .map(4.5, 30, 70)
    )
    sparse = (
        Scenario("add_vasopressin_map_low_sparse_data")
        .comment(0, "norepinephrine from 0; MAP 58 but samples only from minute 3 to 10.4")
        .pump(0, NE, 10, "mcg/min")
        .map(3, 10.4, 58)
    )
    dose = (
        Scenario("add_vasopressin_ne_dose")
        .comment(0, "norepinephrine 18 mcg/min with MAP 70; reduced to 12 at minute 5")
        .pump(0, NE, 18, "mcg/min")
        .map(0, 12, 70)
        .pump(5, NE, 12, "mcg/min")
    )
    dose_short = (
        Scenario("add_vasopressin_ne_dose_too_short")
        .comment(0, "norepinephrine 18 mcg/min for 1 min 50 s, then 14")
        .pump(0, NE, 18, "mcg/min")
        .pump(1 + 50 / 60, NE, 14, "mcg/min")
        .map(0, 10, 70)
    )
    on_vaso = (
        Scenario("add_vasopressin_not_when_vasopressin_runs")
        .comment(0, "norepinephrine 20 mcg/min already with vasopressin 0.03 units/min")
        .pump(0, NE, 20, "mcg/min")
        .pump(0, VP, 0.03, "units/min")
        .map(0, 12, 70)
    )
    return [
        Case(
            low,
            [
                ("add_vasopressin", "firing", 1, 10, 10),
                ("add_vasopressin", "firing", 2, 20, 20),
                ("add_vasopressin", "resolved", 2, 26, 29),
            ],
        ),
        Case(short, silent=["add_vasopressin"]),
        Case(sparse, silent=["add_vasopressin"]),
        Case(
            dose, [("add_vasopressin", "firing", 1, 2, 2), ("add_vasopressin", "resolved", 1, 7, 7)]
        ),
        Case(dose_short, silent=["add_vasopressin"]),
        Case(on_vaso, silent=["add_vasopressin"]),
    ]


def _vasopressin_safety() -> list[Case]:
    alone = (
        Scenario("vasopressin_monotherapy")
        .comment(0, "vasopressin 0.03 units/min with no norepinephrine; norepinephrine at 6")
        .pump(0, VP, 0.03, "units/min")
        .map(0, 10, 70)
        .pump(6, NE, 5, "mcg/min")
    )
    alone_short = (
        Scenario("vasopressin_monotherapy_too_short")
        .comment(0, "vasopressin alone for 90 s before norepinephrine follows")
        .pump(0, VP, 0.03, "units/min")
        .pump(1.5, NE, 5, "mcg/min")
        .map(0, 6, 70)
    )
    high = (
        Scenario("vasopressin_above_ceiling")
        .comment(0, "vasopressin 3.6 units/h (0.06 units/min) with norepinephrine")
        .pump(0, NE, 8, "mcg/min")
        .pump(0, VP, 3.6, "units/h")
        .map(0, 6, 70)
    )
    at_ceiling = (
        Scenario("vasopressin_at_ceiling")
        .comment(0, "vasopressin 0.04 units/min with norepinephrine: at, not above")
        .pump(0, NE, 8, "mcg/min")
        .pump(0, VP, 0.04, "units/min")
        .map(0, 6, 70)
    )
    rounded = (
        Scenario("vasopressin_at_ceiling_rounded")
        .comment(0, "vasopressin 2.4019689 units/h, as MIMIC-III charts 0.04 units/min")
        .pump(0, NE, 8, "mcg/min")
        .pump(0, VP, 2.4019689, "units/h")
        .map(0, 6, 70)
    )
    return [
        Case(
            alone,
            [
                ("vasopressin_monotherapy", "firing", 1, 2, 2),
                ("vasopressin_monotherapy", "resolved", 1, 8, 8),
            ],
        ),
        Case(alone_short, silent=["vasopressin_monotherapy"]),
        Case(
            high,
            [("vasopressin_above_ceiling", "firing", 1, 1, 1)],
            silent=["vasopressin_monotherapy"],
        ),
        Case(at_ceiling, silent=["vasopressin_above_ceiling"]),
        Case(rounded, silent=["vasopressin_above_ceiling"]),
    ]


def _epinephrine() -> list[Case]:
    third = (
        Scenario("add_epinephrine")
        .comment(0, "norepinephrine 20 mcg/min + vasopressin 0.03; MAP 58; epinephrine at 20")
        .pump(0, NE, 20, "mcg/min")
        .pump(0, VP, 0.03, "units/min")
        .map(0, 30, 58)
        .pump(20, EPI, 0.05, "mcg/kg/min", weight_kg=70)
    )
    titration = (
        Scenario("epinephrine_titration")
        .comment(0, "epinephrine +0.1 at 0 and 12 (fine), +0.1 at 15 (too soon), +0.3 at 40")
        .pump(0, NE, 10, "mcg/min")
        .map(0, 45, 70)
        .pump(0, EPI, 0.1, "mcg/kg/min", weight_kg=70)
        .pump(12, EPI, 0.2, "mcg/kg/min", weight_kg=70)
        .pump(15, EPI, 0.3, "mcg/kg/min", weight_kg=70)
        .pump(40, EPI, 0.6, "mcg/kg/min", weight_kg=70)
    )
    dose = (
        Scenario("epinephrine_dose_range")
        .comment(0, "epinephrine 2.5 mcg/kg/min; 2.0 from minute 4")
        .pump(0, NE, 10, "mcg/min")
        .pump(0, EPI, 2.5, "mcg/kg/min", weight_kg=70)
        .pump(4, EPI, 2.0, "mcg/kg/min", weight_kg=70)
        .map(0, 8, 70)
    )
    lactate = (
        Scenario("epinephrine_lactate_caution")
        .comment(0, "lactate 3.1 while epinephrine runs")
        .pump(0, NE, 10, "mcg/min")
        .pump(0, EPI, 0.1, "mcg/kg/min", weight_kg=70)
        .map(0, 8, 70)
        .observe(3, "lactate", 3.1, "mmol/L")
    )
    return [
        Case(
            third,
            [("add_epinephrine", "firing", 1, 15, 15), ("add_epinephrine", "resolved", 1, 22, 22)],
            silent=["add_vasopressin"],
        ),
        Case(
            titration,
            [
                ("epinephrine_titration", "firing", 1, 15, 15),
                ("epinephrine_titration", "resolved", 1, 17.1, 17.2),
                ("epinephrine_titration", "firing", 1, 40, 40),
                ("epinephrine_titration", "resolved", 1, 42.1, 42.2),
            ],
        ),
        Case(
            dose,
            [
                ("epinephrine_dose_range", "firing", 1, 1, 1),
                ("epinephrine_dose_range", "resolved", 1, 6, 6),
            ],
        ),
        Case(
            lactate,
            [
                ("epinephrine_lactate_caution", "firing", 1, 3, 3),
                ("epinephrine_lactate_caution", "resolved", 1, 5.1, 5.2),
            ],
        ),
    ]


def _adjuncts() -> list[Case]:
    hydro = (
        Scenario("consider_hydrocortisone")
        .comment(0, "norepinephrine + vasopressin from 0, MAP 60 for 40 min")
        .pump(0, NE, 20, "mcg/min")
        .pump(0, VP, 0.03, "units/min")
        .map(0, 40, 60)
    )
    hydro_given = (
        Scenario("consider_hydrocortisone_already_given")
        .comment(0, "as above, but hydrocortisone 50 mg was recorded at minute 0")
        .observe(0, "hydrocortisone", 50, "mg")
        .pump(0, NE, 20, "mcg/min")
        .pump(0, VP, 0.03, "units/min")
        .map(0, 40, 60)
    )
    dobutamine = (
        Scenario("consider_dobutamine")
        .comment(0, "MAP 72 on norepinephrine 8 mcg/min; lactate 3.0 then 3.1 at 30")
        .pump(0, NE, 8, "mcg/min")
        .map(0, 40, 72)
        .observe(0, "lactate", 3.0, "mmol/L")
        .observe(30, "lactate", 3.1, "mmol/L")
    )
    clearing = (
        Scenario("consider_dobutamine_lactate_clearing")
        .comment(0, "as above, but lactate falls 3.0 -> 2.5 (17%) by minute 10")
        .pump(0, NE, 8, "mcg/min")
        .map(0, 40, 72)
        .observe(0, "lactate", 3.0, "mmol/L")
        .observe(10, "lactate", 2.5, "mmol/L")
    )
    oliguria = (
        Scenario("consider_dobutamine_low_urine")
        .comment(0, "MAP 72 on norepinephrine; urine 20 mL/h for 2 h at 80 kg")
        .observe(0, "weight", 80, "kg")
        .pump(0, NE, 8, "mcg/min")
        .map(0, 125, 72)
        .observe(60, "urine_output", 20, "mL", period_min=60)
        .observe(120, "urine_output", 20, "mL", period_min=60)
    )
    return [
        Case(hydro, [("consider_hydrocortisone", "firing", 1, 30, 30)]),
        Case(hydro_given, silent=["consider_hydrocortisone"]),
        # MAP is "adequate over 30 min" once 80% of the window's 30-s buckets hold
        # samples: 48 buckets, reached at minute 23.5 (the current bucket counts).
        Case(dobutamine, [("consider_dobutamine", "firing", 1, 23.5, 24)]),
        Case(clearing, silent=["consider_dobutamine"]),
        Case(oliguria, [("consider_dobutamine", "firing", 1, 120, 120)]),
    ]


def all_cases() -> list[Case]:
    from tests.scenarios.catalogue_more import more_cases

    return [
        *_add_vasopressin(),
        *_vasopressin_safety(),
        *_epinephrine(),
        *_adjuncts(),
        *more_cases(),
    ]


def write_all() -> list[Path]:
    return [case.scenario.write(FOLDER) for case in all_cases()]


if __name__ == "__main__":
    for written in write_all():
        print(written)
