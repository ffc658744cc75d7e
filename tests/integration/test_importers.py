"""The importers on the shared public extracts, checked against counts anyone can
recompute from the CSV files with a few lines of their own (no importer code here)."""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
from collections import Counter
from pathlib import Path

import orjson
import pytest

from stream_app.cli import main
from stream_app.domain.codec import Rejection, decode_element
from stream_app.engine.engine import Engine
from stream_app.engine.registry import load_rule_pack
from stream_app.importers.cli import ImportOptions, run_import
from stream_app.importers.common import ImportSummary
from stream_app.local_kafka import PROJECT_ROOT
from stream_app.report import burden


def shared_data() -> Path:
    """The team's shared extracts, read in place: next to the checkout, or where
    VASOWATCH_SHARED_DATA says, or the workplace's /work/shared/data."""
    candidates = [
        os.environ.get("VASOWATCH_SHARED_DATA"),
        PROJECT_ROOT.parent / "shared" / "data",
        "/work/shared/data",
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "eicu-demo").is_dir():
            return Path(candidate)
    raise AssertionError(f"shared ICU extracts not found in {candidates}")


DATA = shared_data()
EICU, MIMIC = DATA / "eicu-demo", DATA / "mimic-iii-demo"


def rows(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", newline="") as handle:
        return list(csv.DictReader(handle))


def numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def imported(source: str, directory: Path, **options: object) -> tuple[list[dict], ImportSummary]:  # type: ignore[type-arg]
    out = io.BytesIO()
    summary = run_import(source, directory, out, ImportOptions(**options))  # type: ignore[arg-type]
    return [orjson.loads(line) for line in out.getvalue().splitlines()], summary


def check_contract(records: list[dict]) -> None:  # type: ignore[type-arg]
    """Every record is valid under the event contract, and the file is in time order."""
    assert records[0]["kind"] == "comment"
    assert "ODbL" in records[0]["text"]
    times = [r["ts"] for r in records[1:]]
    assert times == sorted(times)
    for record in records[1:]:
        if record["kind"] != "tick":
            assert not isinstance(decode_element(record["kind"], record), Rejection), record


@pytest.fixture(scope="module")
def eicu_drugs() -> list[dict[str, str]]:
    return rows(EICU / "infusiondrug.csv.gz")


def test_eicu_rows_all_accounted_for_and_counts_recomputable(eicu_drugs) -> None:  # type: ignore[no-untyped-def]
    records, summary = imported("eicu", EICU)
    check_contract(records)
    total = sum(summary.converted.values()) + sum(summary.skipped.values())
    assert total + sum(summary.unmapped.values()) == summary.rows["infusiondrug"] == len(eicu_drugs)

    def unit(name: str) -> str:
        found = re.search(r"\(([^()]*)\)\s*$", name)
        return found.group(1).lower() if found else ""

    vasopressin = [
        r for r in eicu_drugs
        if "vasopressin" in r["drugname"].lower()
        and unit(r["drugname"]) in ("units/min", "units/hr")
        and numeric(r["drugrate"])
    ]  # fmt: skip
    assert summary.converted["infusion rows: vasopressin"] == len(vasopressin)
    vasoactive = re.compile(
        r"norepinephrine|vasopressin|epinephrine|phenylephrine|dopamine|dobutamine", re.I
    )
    volume_rates = [
        r for r in eicu_drugs
        if vasoactive.search(r["drugname"])
        and (unit(r["drugname"]) == "ml/hr" or r["drugname"].lower().startswith("volume"))
        and numeric(r["drugrate"])
    ]  # fmt: skip
    assert not any(r["drugamount"] and r["volumeoffluid"] for r in volume_rates)
    assert summary.unmapped["ml/hr without a concentration"] == len(volume_rates)
    no_unit = [
        r for r in eicu_drugs
        if vasoactive.search(r["drugname"])
        and not unit(r["drugname"])
        and not r["drugname"].lower().startswith("volume")
        and numeric(r["drugrate"])
    ]  # fmt: skip
    assert summary.unmapped["no unit in the drug name"] == len(no_unit)
    milrinone = [r for r in eicu_drugs if re.search("milrinone|isoproterenol", r["drugname"], re.I)]
    assert summary.unmapped["vasoactive drug not tracked (milrinone and the like)"] == len(
        milrinone
    )

    mapped_unit = ("mcg/min", "mcg/kg/min")
    with_norepinephrine = {
        r["patientunitstayid"] for r in eicu_drugs
        if r["drugname"].lower().startswith("norepinephrine")
        and unit(r["drugname"]) in mapped_unit
        and numeric(r["drugrate"])
    }  # fmt: skip
    beds = {
        r["bed_id"] for r in records
        if r["kind"] == "infusion" and r["drug"] == "norepinephrine"
    }  # fmt: skip
    assert beds == {f"eicu-{stay}" for stay in with_norepinephrine}


def test_eicu_cuff_pressures_only_when_asked_and_marked(eicu_drugs) -> None:  # type: ignore[no-untyped-def]
    without, _ = imported("eicu", EICU)
    assert not [r for r in without if r["kind"] == "arterial"]
    records, summary = imported("eicu", EICU, cuff_as_map=True)
    check_contract(records)
    samples = [r for r in records if r["kind"] == "arterial"]
    assert samples
    assert all(r["source"] == "cuff" for r in samples)
    beds = {r["bed_id"].removeprefix("eicu-") for r in records if r["kind"] == "infusion"}
    vitals = rows(EICU / "vitalAperiodic.csv.gz")
    expected = [
        v for v in vitals if v["patientunitstayid"] in beds and numeric(v["noninvasivemean"])
    ]
    assert len(samples) == len(expected) == summary.converted["cuff samples as MAP"]


def test_mimic3_rows_all_accounted_for_and_counts_recomputable() -> None:
    records, summary = imported("mimic3", MIMIC)
    check_contract(records)
    inputs = rows(MIMIC / "INPUTEVENTS_MV.csv.gz")
    assert summary.rows["INPUTEVENTS_MV"] == len(inputs)
    accounted = sum(summary.converted.values()) - summary.converted["urine output"]
    accounted += summary.skipped["not a vasoactive drug"]
    accounted += sum(n for why, n in summary.unmapped.items() if not why.startswith("urine"))
    assert accounted == len(inputs)
    live = [r for r in inputs if r["STATUSDESCRIPTION"] != "Rewritten" and numeric(r["RATE"])]
    vasopressin = [r for r in live if r["ITEMID"] == "222315"]
    assert summary.converted["infusion rows: vasopressin"] == len(vasopressin) > 0
    rewritten = Counter(r["ITEMID"] for r in inputs if r["STATUSDESCRIPTION"] == "Rewritten")
    vasoactive = ("221906", "222315", "221289", "221749", "221662", "221653")
    assert summary.unmapped["rewritten (a charting correction)"] == sum(
        rewritten[item] for item in vasoactive
    )
    norepinephrine_stays = {r["ICUSTAY_ID"] for r in live if r["ITEMID"] == "221906"}
    beds = {
        r["bed_id"] for r in records if r["kind"] == "infusion" and r["drug"] == "norepinephrine"
    }
    assert beds == {f"mimic-{stay}" for stay in norepinephrine_stays}
    # Every interval row is a start and, when it has a length, a stop.
    starts = [r for r in records if r["kind"] == "infusion" and r["status"] == "running"]
    assert len(starts) == sum(1 for r in live if r["ITEMID"] in vasoactive and float(r["RATE"]) > 0)


def test_import_then_report_from_the_command_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    feed = tmp_path / "mimic.jsonl"
    assert main(["import", "mimic3", str(MIMIC), "-o", str(feed)]) == 0
    assert "could not be mapped" in capsys.readouterr().err
    assert main(["report", str(feed), "--json", str(tmp_path / "r.json")]) == 0
    report = orjson.loads((tmp_path / "r.json").read_bytes())
    assert report["stays"] == len(
        {r["bed_id"] for r in map(orjson.loads, feed.read_bytes().splitlines()) if "bed_id" in r}
    )
    assert sum(row["episodes"] for row in report["rules"].values()) == report["episodes"] > 0


@pytest.mark.parametrize(
    ("name", "source", "folder", "cuff"),
    [
        ("eicu", "eicu", EICU, False),
        ("eicu-cuff", "eicu", EICU, True),
        ("mimic3", "mimic3", MIMIC, False),
    ],
)
def test_validation_report_in_docs_is_current(
    name: str, source: str, folder: Path, cuff: bool
) -> None:
    """docs/validation/*.json is what today's importers and rule pack give (make validation)."""
    out = io.BytesIO()
    run_import(source, folder, out, ImportOptions(cuff_as_map=cuff))
    pack = load_rule_pack(PROJECT_ROOT / "rules")
    report = burden(out.getvalue().splitlines(), Engine(pack))
    recorded = orjson.loads((PROJECT_ROOT / "docs" / "validation" / f"{name}.json").read_bytes())
    assert report == recorded
