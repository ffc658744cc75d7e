"""The alert-burden report on a feed whose answer is known by construction."""

from __future__ import annotations

from pathlib import Path

import orjson

from stream_app.cli import main
from stream_app.engine.engine import Engine
from stream_app.engine.registry import load_rule_pack
from stream_app.local_kafka import PROJECT_ROOT
from stream_app.report import burden

START = 1_772_352_000_000
MINUTE = 60_000


def _feed() -> list[bytes]:
    """Bed A: vasopressin alone for 30 min (an episode from 2 to 32). Bed B: quiet."""
    records: list[dict[str, object]] = [
        {
            "kind": "infusion",
            "bed_id": "bed-a",
            "ts": START,
            "pump_id": "p1",
            "drug": "vasopressin",
            "status": "running",
            "rate": 0.03,
            "rate_unit": "units/min",
        },
        {
            "kind": "infusion",
            "bed_id": "bed-a",
            "ts": START + 30 * MINUTE,
            "pump_id": "p1",
            "drug": "vasopressin",
            "status": "stopped",
        },
    ]
    for minute in range(41):
        for bed in ("bed-a", "bed-b"):
            records.append(
                {"kind": "arterial", "bed_id": bed, "ts": START + minute * MINUTE, "map": 72}
            )
    records.sort(key=lambda r: int(str(r["ts"])))
    return [orjson.dumps(r) for r in records]


def test_burden_counts_episodes_time_open_and_vasopressor_hours() -> None:
    report = burden(_feed(), Engine(load_rule_pack(PROJECT_ROOT / "rules")))
    assert report["stays"] == 2
    assert report["vasopressor_hours"] == 0.5
    assert report["episodes"] == 1
    row = report["rules"]["vasopressin_monotherapy"]
    assert row["episodes"] == 1
    assert row["median_firing_min"] == 30.0  # fired at 2 (hold), resolved at 32 (hysteresis)
    assert row["renotifications"] == 2  # high severity, every 10 min: at 12 and 22
    assert row["per_vasopressor_day"] == 48.0  # one episode in half an hour
    assert report["stays_with_high_alert"] == 1
    assert report["share_stays_with_high_alert"] == 0.5


def test_report_command_prints_writes_json_and_chart(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(b"\n".join(_feed()) + b"\n")
    out_json, chart = tmp_path / "report.json", tmp_path / "chart.png"
    assert main(["report", str(feed), "--json", str(out_json), "--chart", str(chart)]) == 0
    printed = capsys.readouterr().out
    assert "vasopressin_monotherapy" in printed
    assert "stays: 2" in printed
    assert orjson.loads(out_json.read_bytes())["episodes"] == 1
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
