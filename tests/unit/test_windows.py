"""Window totals memoised across evaluations equal totals summed afresh."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stream_app.engine.context import Context
from stream_app.engine.registry import load_rule_pack
from stream_app.engine.state import BedState
from stream_app.engine.windows import Thresholds, add_sample, current_totals, totals
from stream_app.local_kafka import PROJECT_ROOT

PACK = load_rule_pack(PROJECT_ROOT / "rules")
THRESHOLDS = Thresholds(65, 85, 130, 30_000)
T0 = 1_790_000_000_000

_STEPS = st.lists(
    st.tuples(
        st.integers(min_value=-120, max_value=400),  # seconds from the clock (behind: out of order)
        st.sampled_from([50.0, 64.9, 65.0, 80.0, 86.0]),
        st.sampled_from([None, 90.0, 140.0]),
        st.booleans(),  # evaluate after this sample
    ),
    min_size=1,
    max_size=120,
)


@settings(max_examples=200, deadline=None)
@given(_STEPS)
def test_memoised_windows_match_fresh_sums(
    steps: list[tuple[int, float, float | None, bool]],
) -> None:
    state = BedState("b1")
    memo: dict[int, tuple[int, int, list[int]]] = {}
    clock = T0
    for offset_s, map_mmhg, hr, evaluate in steps:
        ts = max(T0, clock + offset_s * 1000)
        if ts // 30_000 < clock // 30_000:
            state.buckets_revision += 1  # as the engine does for a sample in an older bucket
        add_sample(state.buckets, ts, map_mmhg, hr, THRESHOLDS)
        clock = max(clock, ts)
        if not evaluate:
            continue
        remembered = Context(state, PACK, clock, None, THRESHOLDS, memo)
        fresh = Context(state, PACK, clock, None, THRESHOLDS)
        for minutes in (0.25, 0.5, 5, 10, 15, 30):
            assert remembered.window(minutes) == fresh.window(minutes)
        for index in (clock // 30_000, clock // 30_000 + 1):  # the newest bucket, and none
            assert current_totals(state.buckets, index) == totals(state.buckets, index, index)
