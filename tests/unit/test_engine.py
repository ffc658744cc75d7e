"""Engine properties that scenarios do not show: bounded state, serialisation, lateness."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stream_app.domain.drugs import Drug
from stream_app.domain.events import ArterialSample, Event, Observation, PumpUpdate
from stream_app.engine.engine import Engine
from stream_app.engine.registry import load_rule_pack
from stream_app.engine.state import BedState
from stream_app.local_kafka import PROJECT_ROOT

ENGINE = Engine(load_rule_pack(PROJECT_ROOT / "rules"))
T0 = 1_790_000_000_000


def _sample(ts: int, value: float = 70.0, **kw: float) -> ArterialSample:
    return ArterialSample("b1", ts, None, value, kw.get("sbp"), kw.get("dbp"), kw.get("hr"))


def _pump(ts: int, drug: Drug, rate: float, pump: str = "p1") -> PumpUpdate:
    return PumpUpdate("b1", ts, None, pump, drug, rate > 0, rate, False, None, "central")


def test_state_stays_bounded_over_two_days_of_data() -> None:
    """Memory per bed does not grow with time: 48 h of 1 Hz samples, pumps and labs."""
    state = None
    sizes = []
    for second in range(0, 48 * 3600, 1):
        ts = T0 + second * 1000
        step = ENGINE.apply(state, _sample(ts, 60 + (second % 30), hr=90))
        state = step.state
        if second % 600 == 0:
            state = ENGINE.apply(state, _pump(ts, Drug.NOREPINEPHRINE, 5 + second % 7)).state
            state = ENGINE.apply(state, Observation("b1", ts, None, "lactate", 2.5, None)).state
            state = ENGINE.apply(state, Observation("b1", ts, None, "urine_output", 30, 10.0)).state
        if second % 3600 == 0:
            sizes.append(len(state.to_bytes()))
    assert state is not None
    assert len(state.buckets) <= ENGINE.retention_ms // ENGINE.thresholds.bucket_ms + 2
    assert max(sizes) < 20_000
    assert max(sizes[6:]) - min(sizes[6:]) < 2_000  # flat once the windows are full


def test_state_round_trips_through_bytes() -> None:
    """The table value decodes back to an equal state."""
    state = ENGINE.apply(None, _pump(T0, Drug.VASOPRESSIN, 0.03)).state
    for i in range(200):
        state = ENGINE.apply(state, _sample(T0 + i * 1000, 58)).state
    assert state.episodes
    assert BedState.from_bytes(state.to_bytes()) == state


def test_artifacts_are_counted_and_kept_out_of_windows() -> None:
    """Flush, clamp and damped samples are noted by kind and never enter a window."""
    state = ENGINE.apply(None, _sample(T0, 70)).state
    kinds = []
    for ts, sample in [
        (T0 + 1000, _sample(T0 + 1000, 250)),
        (T0 + 2000, _sample(T0 + 2000, 20)),
        (T0 + 3000, _sample(T0 + 3000, 70, sbp=60, dbp=80)),
        (T0 + 4000, _sample(T0 + 4000, 70, sbp=100, dbp=90)),
    ]:
        step = ENGINE.apply(state, sample)
        state = step.state
        kinds.extend(step.notes)
        assert state.clock_ms == ts
    assert kinds == [
        "artifact:map_out_of_range",
        "artifact:map_out_of_range",
        "artifact:systolic_not_above_diastolic",
        "artifact:damped_pulse_pressure",
    ]
    assert sum(b[0] for b in state.buckets.values()) == 1
    assert state.last_arterial_ms == T0


def test_too_old_sample_is_late_but_old_pump_event_is_not_lost() -> None:
    """A sample older than every window is rejected as late; a pump change never is."""
    state = ENGINE.apply(None, _sample(T0 + 3 * 3_600_000)).state
    old_sample = ENGINE.apply(state, _sample(T0))
    assert old_sample.rejection is not None
    assert old_sample.rejection.reason == "late"
    old_pump = ENGINE.apply(old_sample.state, _pump(T0, Drug.NOREPINEPHRINE, 8))
    assert old_pump.rejection is None
    assert old_pump.state.pumps["p1"].amount_per_min == 8
    superseded = ENGINE.apply(old_pump.state, _pump(T0 - 1000, Drug.NOREPINEPHRINE, 3))
    assert superseded.notes[-1] == "superseded"
    assert superseded.state.pumps["p1"].amount_per_min == 8


def test_duplicate_event_changes_nothing() -> None:
    """The same event twice is applied once."""
    state = ENGINE.apply(None, _sample(T0, 58)).state
    before = state.to_bytes()
    step = ENGINE.apply(state, _sample(T0, 58))
    assert step.notes == ["duplicate"]
    assert step.state.to_bytes() == before


def test_eviction_after_a_silent_day() -> None:
    """A bed silent for the pack's eviction period may be dropped."""
    state = ENGINE.apply(None, _sample(T0)).state
    assert not ENGINE.evicted(state, T0 + 23 * 3_600_000)
    assert ENGINE.evicted(state, T0 + 25 * 3_600_000)


# -- the in-order arterial path gives what the general path gives ----------------------
_MOVES = st.lists(
    st.tuples(
        st.sampled_from(["next", "next", "next", "same", "behind", "far_behind", "pump", "enc"]),
        st.sampled_from([45.0, 58.0, 64.9, 65.0, 80.0, 90.0, 250.0]),  # 250: an artifact
        st.integers(min_value=1, max_value=40),  # seconds forward
    ),
    min_size=1,
    max_size=400,
)


def _events(moves: list[tuple[str, float, int]]) -> list[ArterialSample | PumpUpdate]:
    ts, encounter = T0, "e1"
    out: list[ArterialSample | PumpUpdate] = []
    for move, value, seconds in moves:
        if move == "next":
            ts += seconds * 1000
        elif move == "behind":
            ts_event = ts - seconds * 1000
            out.append(ArterialSample("b1", ts_event, encounter, value, None, None, 95.0))
            continue
        elif move == "far_behind":
            out.append(ArterialSample("b1", ts - 3 * 3600_000, encounter, value, None, None, None))
            continue
        elif move == "pump":
            out.append(
                PumpUpdate(
                    "b1",
                    ts,
                    encounter,
                    "p1",
                    Drug.NOREPINEPHRINE,
                    True,
                    seconds,
                    False,
                    None,
                    "central",
                )
            )
            continue
        elif move == "enc":
            encounter = f"e{seconds}"
        out.append(
            ArterialSample(
                "b1", ts, encounter if seconds % 2 else None, value, None, None, 95.0 + seconds
            )
        )
    return out


def _applied(
    engine: Engine, moves: list[tuple[str, float, int]], before_each: Any = None
) -> tuple[list[Any], bytes]:
    """Every step ``apply`` gives for the moves' events, and the final encoded state."""
    state, steps = None, []
    for event in _events(moves):
        if before_each is not None:
            before_each()
        step = engine.apply(state, event)
        state = step.state
        steps.append((step.transitions, step.notes, step.rejection))
    assert state is not None
    return steps, state.to_bytes()


@settings(max_examples=150, deadline=None)
@given(_MOVES)
def test_in_order_path_matches_general_path(moves: list[tuple[str, float, int]]) -> None:
    general = Engine(ENGINE.pack)
    general.in_order_path = False
    results = [_applied(ENGINE, moves), _applied(general, moves)]
    assert results[0] == results[1]
    # What the worker and replay call: None only for an event applied in place with
    # nothing to report, and otherwise the same step.
    quiet = Engine(ENGINE.pack)
    state: BedState | None = None
    steps: list[Any] = []
    for event in _events(moves):
        before = state
        in_place = quiet.apply_in_place(state, event)
        if in_place is None:
            assert before is not None
            steps.append(([], [], None))
        else:
            state = in_place.state
            steps.append((in_place.transitions, in_place.notes, in_place.rejection))
    assert state is not None
    assert (steps, state.to_bytes()) == results[0]


@settings(max_examples=150, deadline=None)
@given(_MOVES)
def test_memoised_doses_give_what_deriving_them_again_gives(
    moves: list[tuple[str, float, int]],
) -> None:
    """The engine keeps each bed's doses until a pump or the weight changes; an engine
    that forgets them before every event must decide exactly the same."""
    forgetful = Engine(ENGINE.pack)
    results = [
        _applied(Engine(ENGINE.pack), moves),
        _applied(forgetful, moves, before_each=forgetful._derived.clear),
    ]
    assert results[0] == results[1]


def test_new_encounter_starts_with_empty_windows() -> None:
    """A new patient in the bed is judged on their own samples only: supranormal MAP of
    the previous encounter must not carry over, even within the same 30 s bucket (the
    engine memoises window totals per bed, and the memo must not outlive the buckets)."""
    engine = Engine(load_rule_pack(PROJECT_ROOT / "rules"))

    def event(kind: str, ts: int, encounter: str, value: float = 0.0) -> Event:
        if kind == "pump":
            return PumpUpdate(
                "b1", ts, encounter, "p1", Drug.NOREPINEPHRINE, True, 8.0, False, None, "central"
            )
        return ArterialSample("b1", ts, encounter, value, None, None, None)

    state = engine.apply(None, event("pump", T0, "enc-1")).state
    fired = []
    for second in range(0, 20 * 60 + 5):  # supranormal for 20 min, ending mid-bucket
        step = engine.apply(state, event("map", T0 + second * 1000, "enc-1", 95.0))
        state = step.state
        fired += [(t.encounter_id, t.rule_id, t.status) for t in step.transitions]
    assert ("enc-1", "supranormal_map", "firing") in fired
    ts = state.clock_ms + 1000
    fired.clear()
    for offset, kind in enumerate(["pump", "map", "map", "map"]):
        step = engine.apply(state, event(kind, ts + offset * 10_000, "enc-2", 70.0))
        state = step.state
        fired += [(t.encounter_id, t.rule_id, t.status) for t in step.transitions]
    assert ("enc-1", "supranormal_map", "resolved") in fired
    assert not [f for f in fired if f[0] == "enc-2"]


# -- skipping rules whose drugs are not running changes nothing ------------------------
_DRUG_MOVES = st.lists(
    st.tuples(
        st.sampled_from(["sample", "sample", "sample", "pump", "stop", "lactate", "fluid"]),
        st.sampled_from(list(Drug)),
        st.sampled_from([0.02, 0.05, 1.0, 2.5, 5.0, 20.0]),
        st.integers(min_value=1, max_value=60),  # seconds forward
    ),
    min_size=20,
    max_size=200,
)


def _drug_events(moves: list[tuple[str, Drug, float, int]]) -> list[Event]:
    ts = T0
    out: list[Event] = []
    for move, drug, amount, seconds in moves:
        ts += seconds * 1000
        if move == "sample":
            out.append(ArterialSample("b1", ts, "e1", 40.0 + seconds, None, None, 90 + seconds))
        elif move in ("pump", "stop"):
            running = move == "pump"
            pump = f"p-{drug.value}-{seconds % 4 == 0}"  # now and then a second pump
            out.append(
                PumpUpdate("b1", ts, "e1", pump, drug, running, amount, amount < 3, None, None)
            )
        elif move == "lactate":
            out.append(Observation("b1", ts, "e1", "lactate", amount, None))
        else:
            out.append(Observation("b1", ts, "e1", "fluid_bolus", 500.0, None))
    return out


@settings(max_examples=150, deadline=None)
@given(_DRUG_MOVES)
def test_skipping_idle_rules_matches_evaluating_them(
    moves: list[tuple[str, Drug, float, int]],
) -> None:
    every_rule = Engine(ENGINE.pack)
    every_rule.skip_idle_rules = False
    results = []
    for engine in (Engine(ENGINE.pack), every_rule):
        state, steps = None, []
        for event in _drug_events(moves):
            step = engine.apply(state, event)
            state = step.state
            steps.append((step.transitions, step.notes))
        assert state is not None
        results.append((steps, state.to_bytes()))
    assert results[0] == results[1]
