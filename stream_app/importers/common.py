"""What both importers share: the summary of what was converted or could not be, record
building, drug-label parsing and the time base.

Nothing is dropped silently: every source row ends up converted, skipped as out of
scope (not a vasoactive drug) or unmapped with a reason, and the summary's counts
add up to the rows read.
"""

from __future__ import annotations

import csv
import gzip
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stream_app.domain.drugs import Drug, normalise_drug_name

# Replay files start here unless told otherwise; the extracts carry offsets
# (eICU) or shifted dates (MIMIC-III), never real dates.
DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
MINUTE_MS = 60_000


@dataclass
class ImportSummary:
    source: str
    rows: Counter[str] = field(default_factory=Counter)  # read, by file
    converted: Counter[str] = field(default_factory=Counter)  # by what they became
    skipped: Counter[str] = field(default_factory=Counter)  # out of scope, by why
    unmapped: Counter[str] = field(default_factory=Counter)  # in scope, not convertible
    notes: Counter[str] = field(default_factory=Counter)  # converted, with a caveat
    stays: int = 0
    records: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "stays": self.stays,
            "records": self.records,
            "rows_read": dict(sorted(self.rows.items())),
            "converted": dict(sorted(self.converted.items())),
            "skipped": dict(sorted(self.skipped.items())),
            "unmapped": dict(sorted(self.unmapped.items())),
            "notes": dict(sorted(self.notes.items())),
        }

    def render(self) -> str:
        lines = [f"{self.source}: {self.stays} stays, {self.records} records written"]
        for title, counts in (
            ("rows read", self.rows),
            ("converted", self.converted),
            ("skipped (out of scope)", self.skipped),
            ("could not be mapped", self.unmapped),
            ("converted with a caveat", self.notes),
        ):
            lines.append(f"  {title}: {sum(counts.values())}")
            lines += [f"    {name}: {count}" for name, count in sorted(counts.items())]
        return "\n".join(lines)


def read_csv(path: Path) -> Iterator[dict[str, str]]:
    """Rows of a (gzipped) CSV as dicts; the extracts are read in place, never copied."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def number(text: str | None) -> float | None:
    """A float from a CSV cell, or None for blanks and text that is not a finite number."""
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def weight_kg(*cells: str | None) -> float | None:
    """The first plausible weight among the cells (blank, zero and absurd ones skipped)."""
    for cell in cells:
        value = number(cell)
        if value is not None and 0 < value <= 500:
            return value
    return None


_WORDS = re.compile(r"[A-Za-z]+")


def drug_of(label: str) -> Drug | None:
    """The tracked drug a free-text label names: the whole label, else its first drug word."""
    drug = normalise_drug_name(label)
    if drug is not None:
        return drug
    for word in _WORDS.findall(label):
        drug = normalise_drug_name(word)
        if drug is not None:
            return drug
    return None


def infusion(
    bed_id: str,
    ts: int,
    pump_id: str,
    drug: Drug,
    rate: float,
    rate_unit: str,
    *,
    concentration: tuple[float, str] | None = None,
    weight: float | None = None,
) -> dict[str, Any]:
    """An infusion record of the contract; a zero rate is a stopped pump."""
    record = stopped(bed_id, ts, pump_id, drug)
    record.update(status="running" if rate > 0 else "stopped", rate=rate, rate_unit=rate_unit)
    if concentration is not None:
        record["concentration"], record["concentration_unit"] = concentration
    if weight is not None:
        record["weight_kg"] = weight
    return record


def stopped(bed_id: str, ts: int, pump_id: str, drug: Drug) -> dict[str, Any]:
    """A pump stopped (one bed per stay: the stay is also the encounter)."""
    return {
        "kind": "infusion",
        "bed_id": bed_id,
        "encounter_id": bed_id,
        "ts": ts,
        "pump_id": pump_id,
        "drug": drug.value,
        "status": "stopped",
    }


def ordered(
    records: list[tuple[int, int, dict[str, Any]]], tick_min: float = 0
) -> list[dict[str, Any]]:
    """Records by event time, then by the given tie order (a stop before a restart).

    With ``tick_min``, clock ticks every so many minutes from the first record to an
    hour after the last, after the records of their instant: the live worker ticks
    every few seconds, so episodes resolve and re-notify on time even when a bed
    sends nothing more (after discharge, say).
    """
    rows = sorted(records, key=lambda r: (r[2]["ts"], r[0], r[1]))
    out = [record for _, _, record in rows]
    if not tick_min or not out:
        return out
    step = int(tick_min * MINUTE_MS)
    first, last = out[0]["ts"], out[-1]["ts"] + 60 * MINUTE_MS
    merged: list[dict[str, Any]] = []
    tick = first - first % step + step
    for record in out:
        while tick < record["ts"]:
            merged.append({"kind": "tick", "ts": tick})
            tick += step
        merged.append(record)
    while tick <= last:
        merged.append({"kind": "tick", "ts": tick})
        tick += step
    return merged
