"""The benchmark's own checks: ratios against the last recorded run, per bed count, and the
instruction count of the engine bench."""

from __future__ import annotations

from typing import Any

from bench.report import _verdict
from bench.run import _compare


def _run(ratios: dict[int, float], limit: int = 500_000) -> dict[str, Any]:
    drains = [
        {"beds": beds, "ratio": ratio, "limit_events_per_s": limit,
         "vasowatch_events_per_s": round(ratio * limit)}
        for beds, ratio in ratios.items()
    ]  # fmt: skip
    return {"throughput": drains, "ratio": ratios.get(1000)}


def test_a_ratio_that_fell_by_more_than_a_fifth_at_any_bed_count_is_a_regression() -> None:
    previous = _run({100: 0.16, 1000: 0.20, 10_000: 0.16})
    found = _compare(previous, _run({100: 0.16, 1000: 0.20, 10_000: 0.12}))
    assert found == "ratio fell at 10,000 beds: 0.16 -> 0.12"


def test_a_slower_machine_is_no_regression_when_the_ratios_hold() -> None:
    previous = _run({100: 0.16, 1000: 0.20}, limit=540_000)
    assert _compare(previous, _run({100: 0.15, 1000: 0.17}, limit=270_000)) is None


def test_bed_counts_the_previous_run_did_not_drain_are_not_compared() -> None:
    assert _compare(_run({1000: 0.20}), _run({100: 0.01, 1000: 0.20})) is None
    assert _compare(None, _run({1000: 0.01})) is None


def test_a_run_recorded_with_only_the_headline_ratio_is_compared_at_1000_beds() -> None:
    assert _compare({"ratio": 0.2}, _run({1000: 0.1})) == "ratio fell at 1,000 beds: 0.2 -> 0.1"


def test_the_instruction_count_is_read_from_callgrinds_exit_summary() -> None:
    from bench.engine_instructions import collected

    summary = "==4242== Events    : Ir\n==4242== Collected : 11008294693\n==4242==\n"
    assert collected(summary) == 11_008_294_693


def test_a_near_miss_of_a_target_says_by_how_much() -> None:
    assert _verdict(0.248, 0.25, higher_is_better=True) == "**missed by 1.01x**"
    assert _verdict(0.252, 0.25, higher_is_better=True) == "met"
    assert _verdict(300.0, 250.0, higher_is_better=False) == "**missed by 1.20x**"
