"""``vasowatch import eicu|mimic3 DIR``: write replay JSON Lines and a summary of every row."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import orjson

from stream_app.exceptions import ConfigurationError
from stream_app.importers.common import DEFAULT_START, ImportSummary

ATTRIBUTION = {
    "eicu": "eICU Collaborative Research Database Demo 2.0.1, Open Database License (ODbL) v1.0",
    "mimic3": "MIMIC-III Clinical Database Demo 1.4, Open Database License (ODbL) v1.0",
}


@dataclass(frozen=True)
class ImportOptions:
    cuff_as_map: bool = False  # eICU only
    start: datetime = DEFAULT_START
    tick_min: float = 5


def run_import(
    source: str, directory: Path, output: IO[bytes], options: ImportOptions
) -> ImportSummary:
    if not directory.is_dir():
        raise ConfigurationError(f"{directory}: not a folder")
    records: list[dict[str, Any]]
    if source == "eicu":
        from stream_app.importers.eicu import import_eicu

        records, summary = import_eicu(
            directory,
            cuff_as_map=options.cuff_as_map,
            start=options.start,
            tick_min=options.tick_min,
        )
    else:
        from stream_app.importers.mimic3 import import_mimic3

        records, summary = import_mimic3(directory, start=options.start, tick_min=options.tick_min)
    header = {"kind": "comment", "text": f"Converted from {ATTRIBUTION[source]}."}
    output.write(orjson.dumps(header) + b"\n")
    for record in records:
        output.write(orjson.dumps(record) + b"\n")
    return summary


def import_command(source: str, directory: Path, out_path: str, options: ImportOptions) -> int:
    if out_path == "-":
        summary = run_import(source, directory, sys.stdout.buffer, options)
    else:
        with open(out_path, "wb") as output:
            summary = run_import(source, directory, output, options)
    print(summary.render(), file=sys.stderr)
    return 0
