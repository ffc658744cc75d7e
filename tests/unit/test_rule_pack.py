"""The rule pack: strict validation, disabling and re-thresholding without code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from stream_app.engine.pack import PackError
from stream_app.engine.registry import RULES, load_rule_pack
from stream_app.local_kafka import PROJECT_ROOT

PACK_DIR = PROJECT_ROOT / "rules"


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(PACK_DIR, target)
    return target


def _edit(path: Path, **changes: object) -> None:
    data = yaml.safe_load(path.read_text())
    for dotted, value in changes.items():
        node = data
        *parents, leaf = dotted.split("__")
        for parent in parents:
            node = node[parent]
        node[leaf] = value
    path.write_text(yaml.safe_dump(data))


def test_shipped_pack_is_valid_and_complete() -> None:
    """Every known rule has a file, a citation and texts."""
    pack = load_rule_pack(PACK_DIR)
    assert set(pack.rules) == {r.rule_id for r in RULES}
    for rule in pack.rules.values():
        assert len(rule.citation) > 40


@pytest.mark.parametrize(
    ("file", "change", "fragments"),
    [
        (
            "add_vasopressin.yaml",
            {"params__ne_dose_treshold": 12},
            ["add_vasopressin.yaml", "add_vasopressin", "ne_dose_treshold"],
        ),
        (
            "add_vasopressin.yaml",
            {"params__ne_dose_threshold": "a lot"},
            ["add_vasopressin", "ne_dose_threshold"],
        ),
        (
            "vasopressin_above_ceiling.yaml",
            {"params__ceiling": -0.01},
            ["vasopressin_above_ceiling", "ceiling"],
        ),
        ("dopamine_use.yaml", {"severity": "critical"}, ["dopamine_use", "severity"]),
        (
            "dopamine_use.yaml",
            {"params__renal_dose_severity": "critical"},
            ["dopamine_use", "renal_dose_severity"],
        ),
        (
            "add_vasopressin.yaml",
            {"params__ne_dose_unit": "mcg/kg/h"},
            ["add_vasopressin", "ne_dose_unit"],
        ),
        ("phenylephrine_use.yaml", {"params__hold_min": -1}, ["phenylephrine_use", "hold_min"]),
        (
            "supranormal_map.yaml",
            {"params__map_window_min": 0},
            ["supranormal_map", "map_window_min"],
        ),
        (
            "consider_dobutamine.yaml",
            {"params__urine_coverage_fraction": 1.5},
            ["consider_dobutamine", "urine_coverage_fraction"],
        ),
        ("supranormal_map.yaml", {"colour": "red"}, ["supranormal_map", "colour"]),
        ("_pack.yaml", {"map__target_mmhg": 20}, ["_pack.yaml", "target_mmhg"]),
        ("_pack.yaml", {"map__supranormal_mmhg": 64}, ["_pack.yaml", "supranormal_mmhg"]),
    ],
)
def test_invalid_pack_names_file_rule_and_field(
    pack_copy: Path, file: str, change: dict[str, object], fragments: list[str]
) -> None:
    """Unknown keys, wrong types and impossible numbers are errors that say where."""
    _edit(pack_copy / file, **change)
    with pytest.raises(PackError) as caught:
        load_rule_pack(pack_copy)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_missing_rule_file_and_unknown_rule_are_errors(pack_copy: Path) -> None:
    """A pack must cover exactly the rules the engine knows."""
    (pack_copy / "phenylephrine_use.yaml").rename(pack_copy / "phenylephrine_overuse.yaml")
    with pytest.raises(PackError, match="unknown rule id"):
        load_rule_pack(pack_copy)


def test_version_changes_with_any_number(pack_copy: Path) -> None:
    """The rule-pack version carried by alerts changes when a threshold changes."""
    before = load_rule_pack(pack_copy).version
    _edit(pack_copy / "vasopressin_above_ceiling.yaml", params__ceiling=0.05)
    assert load_rule_pack(pack_copy).version != before


def test_rule_can_be_disabled_or_rethresholded(pack_copy: Path) -> None:
    """Clinicians change behaviour from YAML alone."""
    import io

    import orjson

    from stream_app.engine.engine import Engine
    from stream_app.replay import replay
    from tests.scenarios.catalogue import FOLDER

    def fired(pack_dir: Path) -> set[str]:
        out = io.BytesIO()
        with (FOLDER / "vasopressin_above_ceiling.jsonl").open("rb") as handle:
            replay(handle, Engine(load_rule_pack(pack_dir)), out, io.StringIO())
        return {orjson.loads(line)["rule_id"] for line in out.getvalue().splitlines()}

    assert "vasopressin_above_ceiling" in fired(pack_copy)
    _edit(pack_copy / "vasopressin_above_ceiling.yaml", params__ceiling=0.08)
    assert "vasopressin_above_ceiling" not in fired(pack_copy)
    _edit(pack_copy / "vasopressin_above_ceiling.yaml", params__ceiling=0.04, enabled=False)
    assert "vasopressin_above_ceiling" not in fired(pack_copy)
