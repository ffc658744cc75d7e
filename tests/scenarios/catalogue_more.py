"""Scenarios for vasoconstriction, avoided agents, monitoring, and the alert lifecycle."""

from __future__ import annotations

from stream_app.engine.lifecycle import alert_id
from tests.scenarios.builder import Scenario, at
from tests.scenarios.catalogue import Case

NE, VP = "norepinephrine", "vasopressin"


def _vasoconstriction() -> list[Case]:
    rising = (
        Scenario("excess_vasoconstriction")
        .comment(0, "norepinephrine 0.6 mcg/kg/min, MAP 80; lactate 2.0 then 2.4 at 20")
        .observe(0, "weight", 80, "kg")
        .pump(0, NE, 0.6, "mcg/kg/min")
        .map(0, 30, 80)
        .observe(0, "lactate", 2.0, "mmol/L")
        .observe(20, "lactate", 2.4, "mmol/L")
    )
    flat = (
        Scenario("excess_vasoconstriction_lactate_flat")
        .comment(0, "as above, but lactate rises only 5%")
        .observe(0, "weight", 80, "kg")
        .pump(0, NE, 0.6, "mcg/kg/min")
        .map(0, 30, 80)
        .observe(0, "lactate", 2.0, "mmol/L")
        .observe(20, "lactate", 2.1, "mmol/L")
    )
    stop = (
        Scenario("dobutamine_stop")
        .comment(0, "dobutamine 5 mcg/kg/min with norepinephrine; heart rate 140")
        .pump(0, NE, 8, "mcg/min")
        .pump(0, "dobutamine", 5, "mcg/kg/min", weight_kg=80)
        .map(0, 10, 72, hr=140)
    )
    calm = (
        Scenario("dobutamine_stop_heart_rate_ok")
        .comment(0, "dobutamine with heart rate 120")
        .pump(0, NE, 8, "mcg/min")
        .pump(0, "dobutamine", 5, "mcg/kg/min", weight_kg=80)
        .map(0, 10, 72, hr=120)
    )
    return [
        Case(rising, [("excess_vasoconstriction", "firing", 1, 20, 20)]),
        Case(flat, silent=["excess_vasoconstriction"]),
        # heart rate mostly > 130 over 5 min, with 80% of its buckets covered: minute 3.5.
        Case(stop, [("dobutamine_stop", "firing", 1, 3.5, 4)]),
        Case(calm, silent=["dobutamine_stop"]),
    ]


def _avoided_agents() -> list[Case]:
    renal = (
        Scenario("dopamine_use_renal_dose")
        .comment(0, "dopamine 2 mcg/kg/min ('renal dose')")
        .pump(0, NE, 8, "mcg/min")
        .pump(0, "Intropin", 2, "mcg/kg/min", weight_kg=70)
        .map(0, 5, 70)
    )
    pressor = (
        Scenario("dopamine_use_pressor_dose")
        .comment(0, "dopamine 8 mcg/kg/min")
        .pump(0, "dopamine", 8, "mcg/kg/min", weight_kg=70)
        .map(0, 5, 70)
    )
    neo = (
        Scenario("phenylephrine_use")
        .comment(0, "Neo-Synephrine 100 mcg/min with norepinephrine")
        .pump(0, NE, 8, "mcg/min")
        .pump(0, "Neo-Synephrine", 100, "mcg/min")
        .map(0, 5, 72)
    )
    neo_short = (
        Scenario("phenylephrine_use_too_short")
        .comment(0, "phenylephrine for 50 s only")
        .pump(0, NE, 8, "mcg/min")
        .pump(0, "phenylephrine", 100, "mcg/min")
        .stop(50 / 60, "phenylephrine")
        .map(0, 5, 72)
    )
    return [
        Case(renal, [("dopamine_use", "firing", 1, 1, 1)]),
        Case(pressor, [("dopamine_use", "firing", 1, 1, 1)]),
        Case(neo, [("phenylephrine_use", "firing", 1, 1, 1)]),
        Case(neo_short, silent=["phenylephrine_use"]),
    ]


def _monitoring() -> list[Case]:
    high = (
        Scenario("supranormal_map")
        .comment(0, "norepinephrine 12 mcg/min forgotten at a high dose: MAP 92 for 50 min")
        .pump(0, NE, 12, "mcg/min")
        .map(0, 50, 92)
    )
    stale = (
        Scenario("arterial_feed_stale")
        .comment(0, "norepinephrine; arterial samples stop after 5 min, return at 10")
        .pump(0, NE, 8, "mcg/min")
        .map(0, 5, 70)
        .ticks(5, 10)
        .map(10, 14, 70)
    )
    missing = (
        Scenario("arterial_line_missing")
        .comment(0, "norepinephrine for 20 min and no arterial line at all")
        .pump(0, NE, 8, "mcg/min")
        .ticks(1, 21)
    )
    # MIMIC-III charts an infusion as rows: a bag or order change is a stop and a start
    # at the same minute. That instant is not a break in the infusion (docs/validation.md).
    bag_change = (
        Scenario("arterial_line_missing_bag_change")
        .comment(0, "norepinephrine, no arterial line; new bag (new pump id) at 10 and 30")
        .pump(0, NE, 8, "mcg/min", pump="bag-1")
        .stop(10, NE, pump="bag-1")
        .pump(10, NE, 8, "mcg/min", pump="bag-2")
        .ticks(11, 30)
        .stop(30, NE, pump="bag-2")
        .pump(30, NE, 8, "mcg/min", pump="bag-3")
        .ticks(31, 36)
    )
    peripheral = (
        Scenario("peripheral_vasopressor")
        .comment(0, "norepinephrine through a peripheral line for 7 h")
        .pump(0, NE, 5, "mcg/min", route="peripheral")
        .map(0, 2, 70)
        .ticks(10, 7 * 60, every_min=30)
    )
    fluids = (
        Scenario("fluid_resuscitation_incomplete")
        .comment(0, "1000 mL crystalloid at 80 kg (12.5 mL/kg), vasopressin started at 5")
        .observe(0, "weight", 80, "kg")
        .observe(0, "fluid_bolus", 1000, "mL")
        .pump(0, NE, 10, "mcg/min")
        .map(0, 15, 70)
        .pump(5, VP, 0.03, "units/min")
        .observe(8, "fluid_bolus", 1500, "mL")
    )
    return [
        # MAP mostly > 85 with 80% of the 15-min window's buckets covered: minute 11.5.
        # Medium severity: notified again 30 min later.
        Case(
            high,
            [
                ("supranormal_map", "firing", 1, 11.5, 12),
                ("supranormal_map", "firing", 2, 41.5, 42),
            ],
        ),
        Case(
            stale,
            [
                ("arterial_feed_stale", "firing", 1, 6.8, 6.9),
                ("arterial_feed_stale", "resolved", 1, 12, 12),
            ],
        ),
        Case(
            missing,
            [("arterial_line_missing", "firing", 1, 15, 15)],
            silent=["arterial_feed_stale"],
        ),
        Case(
            bag_change,
            [
                ("arterial_line_missing", "firing", 1, 15, 15),
                ("arterial_line_missing", "firing", 2, 25, 25),
                ("arterial_line_missing", "firing", 3, 35, 35),
            ],
        ),
        Case(
            peripheral,
            [
                ("peripheral_vasopressor", "firing", 1, 360, 360),
                ("peripheral_vasopressor", "firing", 2, 390, 390),
            ],
        ),
        Case(
            fluids,
            [
                ("fluid_resuscitation_incomplete", "firing", 1, 5, 5),
                ("fluid_resuscitation_incomplete", "resolved", 1, 10, 10),
            ],
        ),
    ]


def _lifecycle() -> list[Case]:
    artifacts = (
        Scenario("artifacts_excluded")
        .comment(0, "norepinephrine; MAP 70, with flushes (MAP 250) and a damped line")
        .pump(0, NE, 10, "mcg/min")
        .map(0, 20, 70)
        .map(2, 8, 250, every_s=5)
        .map(9, 15, 55, every_s=5, sbp=60, dbp=55)
    )
    acked = Scenario("acknowledged_alert_not_renotified")
    acked_id = alert_id(acked.bed, "vasopressin_monotherapy", "enc-1", at(2))
    (
        acked.comment(0, "vasopressin alone; the alert is acknowledged at minute 5")
        .pump(0, VP, 0.03, "units/min")
        .map(0, 30, 70)
        .ack(5, acked_id)
    )
    encounter = (
        Scenario("new_encounter_resolves_alerts")
        .comment(0, "vasopressin alone under encounter enc-1; enc-2 starts at minute 6")
        .pump(0, VP, 0.03, "units/min")
        .map(0, 6, 70)
    )
    encounter.encounter = "enc-2"
    encounter.comment(6, "a new patient on the bed").map(6, 10, 72)
    duplicate = (
        Scenario("duplicate_bolus_counted_once")
        .comment(0, "the same 1500 mL bolus message arrives twice at 80 kg")
        .observe(0, "weight", 80, "kg")
        .observe(0, "fluid_bolus", 1500, "mL")
        .observe(0, "fluid_bolus", 1500, "mL")
        .pump(1, NE, 10, "mcg/min")
        .pump(1, VP, 0.03, "units/min")
        .map(0, 5, 70)
    )
    return [
        Case(artifacts, silent=["add_vasopressin", "supranormal_map"]),
        Case(
            acked,
            [
                ("vasopressin_monotherapy", "firing", 1, 2, 2),
                ("vasopressin_monotherapy", "acknowledged", 1, 5, 5),
            ],
        ),
        Case(
            encounter,
            [
                ("vasopressin_monotherapy", "firing", 1, 2, 2),
                ("vasopressin_monotherapy", "resolved", 1, 6, 6),
            ],
        ),
        # 3000 mL would be 37.5 mL/kg; one bolus is 18.75: the alert proves it counted once.
        Case(duplicate, [("fluid_resuscitation_incomplete", "firing", 1, 1, 1)]),
    ]


def more_cases() -> list[Case]:
    return [*_vasoconstriction(), *_avoided_agents(), *_monitoring(), *_lifecycle()]
