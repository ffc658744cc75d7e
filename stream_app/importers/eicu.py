"""eICU Collaborative Research Database (demo 2.0.1) to replay JSON Lines.

One bed per unit stay (``eicu-<patientunitstayid>``), times built from the minute
offsets from unit admission. Every vasopressor and inotrope row of
``infusiondrug`` is mapped or counted by reason; cuff pressures from
``vitalAperiodic`` become arterial-contract samples only with ``cuff_as_map``,
marked ``"source": "cuff"``, because a cuff every 5-60 minutes is not an
arterial line.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from stream_app.domain.drugs import Drug
from stream_app.importers.common import (
    DEFAULT_START,
    MINUTE_MS,
    ImportSummary,
    drug_of,
    infusion,
    number,
    ordered,
    read_csv,
    stopped,
    weight_kg,
)

# The bracketed unit at the end of a drugname, as charted.
_UNIT_AT_END = re.compile(r"\(([^()]*)\)\s*$")
_UNITS = {
    "mcg/min": "mcg/min",
    "mcg/kg/min": "mcg/kg/min",
    "units/min": "units/min",
    "units/hr": "units/h",
    "mg/hr": "mg/h",
    "ml/hr": "mL/h",
}
# Vasoactive drugs vasowatch does not track: counted as unmapped, never silently skipped.
_UNTRACKED_VASOACTIVE = re.compile(r"milrinone|isoproterenol|isuprel|angiotensin", re.I)
_TIE_STOP, _TIE_RATE = 0, 1


def bed_of(stay: str) -> str:
    return f"eicu-{stay}"


def import_eicu(
    directory: Path,
    *,
    cuff_as_map: bool = False,
    start: datetime = DEFAULT_START,
    tick_min: float = 5,
) -> tuple[list[dict[str, Any]], ImportSummary]:
    summary = ImportSummary("eICU-CRD demo")
    base_ms = int(start.timestamp() * 1000)
    stays = {row["patientunitstayid"]: row for row in _rows(directory, "patient", summary)}
    records: list[tuple[int, int, dict[str, Any]]] = []
    for row in _rows(directory, "infusiondrug", summary):
        record = _infusion_row(row, stays, base_ms, summary)
        if record is not None:
            records.append((_TIE_RATE, len(records), record))
    beds = {record["bed_id"] for _, _, record in records}
    records += _discharge_stops(records, stays, base_ms)
    if cuff_as_map:
        for row in _rows(directory, "vitalAperiodic", summary):
            sample = _cuff_row(row, beds, base_ms, summary)
            if sample is not None:
                records.append((_TIE_RATE, len(records), sample))
    summary.stays = len(beds)
    out = ordered(records, tick_min)
    summary.records = sum(r["kind"] != "tick" for r in out)
    return out, summary


def _rows(directory: Path, table: str, summary: ImportSummary) -> Any:
    for row in read_csv(directory / f"{table}.csv.gz"):
        summary.rows[table] += 1
        yield row


def _infusion_row(
    row: dict[str, str], stays: dict[str, dict[str, str]], base_ms: int, summary: ImportSummary
) -> dict[str, Any] | None:
    label = row["drugname"]
    drug = drug_of(label)
    if drug is None:
        if _UNTRACKED_VASOACTIVE.search(label):
            summary.unmapped["vasoactive drug not tracked (milrinone and the like)"] += 1
        else:
            summary.skipped["not a vasoactive drug"] += 1
        return None
    unit_match = _UNIT_AT_END.search(label)
    charted_unit = unit_match.group(1).strip().lower() if unit_match else ""
    volume_label = label.lower().startswith("volume")
    if volume_label:
        charted_unit = "ml/hr"  # "Volume (ml) Phenylephrine ()": a volume rate
    offset = number(row["infusionoffset"])
    rate = number(row["drugrate"])
    problem = _problem(offset, rate, charted_unit)
    if problem is not None or offset is None or rate is None:
        summary.unmapped[problem or "no offset or rate"] += 1
        return None
    unit = _UNITS[charted_unit]
    concentration = None
    if unit == "mL/h":
        concentration = _concentration(row, drug)
        if concentration is None:
            summary.unmapped["ml/hr without a concentration"] += 1
            return None
        summary.notes["ml/hr converted through drugamount/volumeoffluid"] += 1
    stay = row["patientunitstayid"]
    weight = weight_kg(row["patientweight"], stays.get(stay, {}).get("admissionweight"))
    if weight is None and unit == "mcg/kg/min":
        summary.notes["weight-based rate without a weight (engine assumes its default)"] += 1
    summary.converted[f"infusion rows: {drug.value}"] += 1
    return infusion(
        bed_of(stay),
        base_ms + int(offset * MINUTE_MS),
        f"pump-{drug.value}",  # one channel per drug: a later row replaces the earlier rate
        drug,
        rate,
        unit,
        concentration=concentration,
        weight=weight,
    )


def _problem(offset: float | None, rate: float | None, charted_unit: str) -> str | None:
    if offset is None:
        return "no offset"
    if rate is None:
        return "rate blank or not a number"
    if rate < 0:
        return "negative rate"
    if not charted_unit:
        return "no unit in the drug name"
    if charted_unit not in _UNITS:
        return f"unit {charted_unit} not in the contract"
    return None


def _concentration(row: dict[str, str], drug: Drug) -> tuple[float, str] | None:
    """Bag contents over volume: mg (units for vasopressin) per mL, when both are charted."""
    amount, volume = number(row["drugamount"]), number(row["volumeoffluid"])
    if amount is None or volume is None or amount <= 0 or volume <= 0:
        return None
    return amount / volume, "units/mL" if drug is Drug.VASOPRESSIN else "mg/mL"


def _discharge_stops(
    records: list[tuple[int, int, dict[str, Any]]],
    stays: dict[str, dict[str, str]],
    base_ms: int,
) -> list[tuple[int, int, dict[str, Any]]]:
    """Every pump still running stops when the patient leaves the unit."""
    last: dict[tuple[str, str], dict[str, Any]] = {}
    for _, _, record in sorted(records, key=lambda r: r[2]["ts"]):
        last[(record["bed_id"], record["pump_id"])] = record
    out: list[tuple[int, int, dict[str, Any]]] = []
    for (bed, pump), record in sorted(last.items()):
        discharge = number(stays.get(bed.removeprefix("eicu-"), {}).get("unitdischargeoffset"))
        if record["status"] != "running" or discharge is None:
            continue
        ts = base_ms + int(discharge * MINUTE_MS)
        if ts > record["ts"]:
            out.append(
                (_TIE_STOP, len(records) + len(out), stopped(bed, ts, pump, Drug(record["drug"])))
            )
    return out


def _cuff_row(
    row: dict[str, str], beds: set[str], base_ms: int, summary: ImportSummary
) -> dict[str, Any] | None:
    bed = bed_of(row["patientunitstayid"])
    if bed not in beds:
        summary.skipped["cuff pressure of a stay without vasoactive infusions"] += 1
        return None
    mean = number(row["noninvasivemean"])
    offset = number(row["observationoffset"])
    if mean is None or offset is None:
        summary.unmapped["cuff row without a mean pressure"] += 1
        return None
    sample: dict[str, Any] = {
        "kind": "arterial",
        "bed_id": bed,
        "encounter_id": bed,
        "ts": base_ms + int(offset * MINUTE_MS),
        "map": mean,
        "source": "cuff",
    }
    systolic, diastolic = number(row["noninvasivesystolic"]), number(row["noninvasivediastolic"])
    if systolic is not None and diastolic is not None:
        sample["sbp"], sample["dbp"] = systolic, diastolic
    summary.converted["cuff samples as MAP"] += 1
    return sample
