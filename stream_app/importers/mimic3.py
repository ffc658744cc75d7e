"""MIMIC-III Clinical Database (demo 1.4) to replay JSON Lines.

One bed per ICU stay (``mimic-<ICUSTAY_ID>``). MetaVision infusion rows are intervals
(STARTTIME to ENDTIME at RATE): each becomes a rate at its start and a stop at its
end, on a pump per drug and ``LINKORDERID`` (a bag change keeps its link), with
stops ordered before a restart at the same minute. Rewritten and cancelled rows are
corrections, not infusions. The extract's dates are shifted into the 22nd century;
times are rebased so each stay starts at ``start`` plus its offset from ICU
admission. Urine output comes from OUTPUTEVENTS.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from stream_app.domain.drugs import Drug
from stream_app.importers.common import (
    DEFAULT_START,
    ImportSummary,
    infusion,
    number,
    ordered,
    read_csv,
    stopped,
    weight_kg,
)

ITEMS = {
    "221906": Drug.NOREPINEPHRINE,
    "222315": Drug.VASOPRESSIN,
    "221289": Drug.EPINEPHRINE,
    "221749": Drug.PHENYLEPHRINE,
    "221662": Drug.DOPAMINE,
    "221653": Drug.DOBUTAMINE,
}
UNTRACKED_VASOACTIVE = {"221986": "milrinone", "227692": "isoproterenol"}
URINE_ITEMS = frozenset(
    {
        "226559",
        "226560",
        "226561",
        "226584",
        "226563",
        "226564",
        "226565",
        "226567",
        "226557",
        "226558",
    }
)
_UNITS = {
    "mcg/kg/min": "mcg/kg/min",
    "mcg/min": "mcg/min",
    "units/hour": "units/h",
    "units/min": "units/min",
    "mg/hour": "mg/h",
}
_FIRST_URINE_PERIOD_MIN = 60.0
_TIE_STOP, _TIE_START, _TIE_OBSERVATION = 0, 1, 2


def bed_of(stay: str) -> str:
    return f"mimic-{stay}"


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=DEFAULT_START.tzinfo).timestamp() * 1000)


def import_mimic3(
    directory: Path, *, start: datetime = DEFAULT_START, tick_min: float = 5
) -> tuple[list[dict[str, Any]], ImportSummary]:
    summary = ImportSummary("MIMIC-III demo")
    base_ms = int(start.timestamp() * 1000)
    admitted = {}
    for row in read_csv(directory / "ICUSTAYS.csv.gz"):
        summary.rows["ICUSTAYS"] += 1
        admitted[row["ICUSTAY_ID"]] = _ms(row["INTIME"])
    records: list[tuple[int, int, dict[str, Any]]] = []
    for row in read_csv(directory / "INPUTEVENTS_MV.csv.gz"):
        summary.rows["INPUTEVENTS_MV"] += 1
        records += _infusion_rows(row, admitted, base_ms, summary, len(records))
    beds = {record["bed_id"] for _, _, record in records}
    records += _urine(directory, beds, admitted, base_ms, summary, len(records))
    summary.stays = len(beds)
    out = ordered(records, tick_min)
    summary.records = sum(r["kind"] != "tick" for r in out)
    return out, summary


def _infusion_rows(
    row: dict[str, str],
    admitted: dict[str, int],
    base_ms: int,
    summary: ImportSummary,
    seq: int,
) -> list[tuple[int, int, dict[str, Any]]]:
    item = row["ITEMID"]
    drug = ITEMS.get(item)
    if drug is None:
        if item in UNTRACKED_VASOACTIVE:
            summary.unmapped[f"vasoactive drug not tracked ({UNTRACKED_VASOACTIVE[item]})"] += 1
        else:
            summary.skipped["not a vasoactive drug"] += 1
        return []
    rate = number(row["RATE"])
    unit = _UNITS.get(row["RATEUOM"].strip().lower())
    stay = row["ICUSTAY_ID"]
    problem = None
    if row["STATUSDESCRIPTION"] == "Rewritten":
        problem = "rewritten (a charting correction)"
    elif row["CANCELREASON"] not in ("", "0"):
        problem = "cancelled"
    elif stay not in admitted:
        problem = "no ICU stay"
    elif rate is None:
        problem = "rate blank or not a number"
    elif rate < 0:
        problem = "negative rate"
    elif unit is None:
        problem = f"unit {row['RATEUOM'] or '(blank)'} not in the contract"
    if problem is not None or rate is None or unit is None:
        summary.unmapped[problem or "rate or unit missing"] += 1
        return []
    bed = bed_of(stay)
    pump = f"pump-{drug.value}-{row['LINKORDERID']}"
    begin = base_ms + _ms(row["STARTTIME"]) - admitted[stay]
    end = base_ms + _ms(row["ENDTIME"]) - admitted[stay]
    weight = weight_kg(row["PATIENTWEIGHT"])
    summary.converted[f"infusion rows: {drug.value}"] += 1
    out = [(_TIE_START, seq, infusion(bed, begin, pump, drug, rate, unit, weight=weight))]
    if end > begin:
        out.append((_TIE_STOP, seq + 1, stopped(bed, end, pump, drug)))
    return out


def _urine(
    directory: Path,
    beds: set[str],
    admitted: dict[str, int],
    base_ms: int,
    summary: ImportSummary,
    seq: int,
) -> list[tuple[int, int, dict[str, Any]]]:
    rows = []
    for row in read_csv(directory / "OUTPUTEVENTS.csv.gz"):
        summary.rows["OUTPUTEVENTS"] += 1
        if row["ITEMID"] not in URINE_ITEMS:
            summary.skipped["output other than urine"] += 1
        elif bed_of(row["ICUSTAY_ID"]) not in beds:
            summary.skipped["urine of a stay without vasoactive infusions"] += 1
        elif number(row["VALUE"]) is None or row["ISERROR"] not in ("", "0"):
            summary.unmapped["urine row without a volume or marked as error"] += 1
        else:
            rows.append((row["ICUSTAY_ID"], _ms(row["CHARTTIME"]), number(row["VALUE"])))
    out: list[tuple[int, int, dict[str, Any]]] = []
    previous: dict[str, int] = {}
    for stay, at, volume in sorted(rows, key=lambda r: (r[0], r[1])):
        # A charted volume covers the time since the previous one of the stay.
        since = previous.get(stay)
        period = (at - since) / 60_000 if since is not None else _FIRST_URINE_PERIOD_MIN
        previous[stay] = at
        if period <= 0:
            summary.unmapped["urine charted twice at the same minute"] += 1
            continue
        summary.converted["urine output"] += 1
        record = {
            "kind": "observation",
            "bed_id": bed_of(stay),
            "encounter_id": bed_of(stay),
            "ts": base_ms + at - admitted[stay],
            "code": "urine_output",
            "value": volume,
            "unit": "mL",
            "period_min": min(period, 1440.0),
        }
        out.append((_TIE_OBSERVATION, seq + len(out), record))
    return out
