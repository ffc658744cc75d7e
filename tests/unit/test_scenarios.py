"""Every rule, in replay form: firing when it should, silent just short, resolving.

Scenario files live in tests/scenarios/ (written by tests/scenarios/catalogue.py).
The test replays each file through the real engine and the real rule pack.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from stream_app.engine.engine import Engine
from stream_app.engine.registry import RULES, load_rule_pack
from stream_app.local_kafka import PROJECT_ROOT
from stream_app.replay import replay
from tests.scenarios.builder import MINUTE_MS, START_MS
from tests.scenarios.catalogue import FOLDER, Case, all_cases

CASES = all_cases()
PACK = load_rule_pack(PROJECT_ROOT / "rules")


def _replay_file(path: Path) -> tuple[list[dict[str, Any]], str]:
    out, err = io.BytesIO(), io.StringIO()
    with path.open("rb") as handle:
        replay(handle, Engine(PACK), out, err)
    return [orjson.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def _minute(alert: dict[str, Any]) -> float:
    ts = datetime.fromisoformat(alert["event_ts"]).timestamp() * 1000
    return (ts - START_MS) / MINUTE_MS


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.scenario.name)
def test_scenario_produces_exactly_its_expected_transitions(case: Case) -> None:
    """For each rule the scenario is about, the transitions are exactly the expected ones."""
    path = FOLDER / f"{case.scenario.name}.jsonl"
    alerts, errors = _replay_file(path)
    assert errors == ""
    for rule_id in {e[0] for e in case.expect}:
        got = [a for a in alerts if a["rule_id"] == rule_id]
        wanted = [e for e in case.expect if e[0] == rule_id]
        assert len(got) == len(wanted), [(a["status"], a["notification"], _minute(a)) for a in got]
        for alert, (_, status, notification, earliest, latest) in zip(got, wanted, strict=True):
            assert (alert["status"], alert["notification"]) == (status, notification)
            assert earliest - 1e-6 <= _minute(alert) <= latest + 1e-6, _minute(alert)
    for rule_id in case.silent:
        assert not [a for a in alerts if a["rule_id"] == rule_id], rule_id


def test_scenario_files_are_current() -> None:
    """The committed .jsonl files are exactly what the catalogue writes."""
    for case in CASES:
        path = FOLDER / f"{case.scenario.name}.jsonl"
        assert path.read_bytes() == b"\n".join(case.scenario.lines()) + b"\n", path.name


def test_every_rule_has_a_firing_scenario() -> None:
    """No rule is left without a scenario that shows it firing."""
    fired = {e[0] for case in CASES for e in case.expect if e[1] == "firing"}
    assert fired == {rule.rule_id for rule in RULES}


def test_alerts_carry_the_documented_fields() -> None:
    """An alert has every field nurse-station integrators rely on."""
    alerts, _ = _replay_file(FOLDER / "add_vasopressin_ne_dose.jsonl")
    first = alerts[0]
    assert set(first) >= {
        "alert_id",
        "bed_id",
        "encounter_id",
        "rule_id",
        "severity",
        "status",
        "notification",
        "title",
        "recommendation",
        "rationale",
        "citation",
        "evidence",
        "started_at",
        "event_ts",
        "emitted_at",
        "rulepack_version",
    }
    assert first["rulepack_version"] == PACK.version
    assert first["recommendation"] == "Add vasopressin 0.03 units/min to norepinephrine."
    assert first["evidence"]["weight_assumed"] is True
    assert first["evidence"]["norepinephrine_mcg_min"] == 18
    assert alerts[1]["alert_id"] == first["alert_id"]


def test_out_of_order_samples_within_lateness_give_the_same_alerts() -> None:
    """Shuffling samples by up to a minute changes nothing: they land in their own buckets."""
    case = next(c for c in CASES if c.scenario.name == "add_vasopressin_map_low")
    lines = case.scenario.lines()
    shuffled = list(lines)
    for start in range(1, len(shuffled) - 6, 6):  # reverse every run of 6 (= 1 min of samples)
        shuffled[start : start + 6] = reversed(shuffled[start : start + 6])
    ordered_out, shuffled_out = io.BytesIO(), io.BytesIO()
    replay(lines, Engine(PACK), ordered_out, io.StringIO())
    replay(shuffled, Engine(PACK), shuffled_out, io.StringIO())

    def keys(raw: io.BytesIO) -> list[tuple[str, str, int]]:
        alerts = map(orjson.loads, raw.getvalue().splitlines())
        return [(a["rule_id"], a["status"], a["notification"]) for a in alerts]

    assert keys(shuffled_out) == keys(ordered_out)
