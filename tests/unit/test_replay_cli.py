"""`vasowatch replay` as a command: stdout only alerts, stderr the problems, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

from stream_app.local_kafka import PROJECT_ROOT
from tests.scenarios.catalogue import FOLDER

SCENARIO = FOLDER / "vasopressin_monotherapy.jsonl"


def _run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "stream_app", *args],
        input=stdin,
        capture_output=True,
        cwd=PROJECT_ROOT,
        timeout=60,
        check=False,
    )


def test_replay_prints_only_alert_lines_and_reports_bad_lines(tmp_path: Path) -> None:
    """Invalid lines go to stderr with their number; replay goes on; stdout is pure JSONL."""
    lines = SCENARIO.read_bytes().splitlines()
    broken = [*lines[:3], b"{not json", b'{"kind": "arterial", "bed_id": "bed-01"}', *lines[3:]]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(broken) + b"\n")
    result = _run("replay", str(path))
    assert result.returncode == 0
    alerts = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [a["status"] for a in alerts] == ["firing", "resolved"]
    stderr = result.stderr.decode()
    assert "line 4: not_json" in stderr
    assert "line 5: missing_field" in stderr


def test_replay_from_stdin_equals_replay_from_file() -> None:
    """`-` reads standard input."""
    from_file = _run("replay", str(SCENARIO)).stdout
    from_stdin = _run("replay", "-", stdin=SCENARIO.read_bytes()).stdout
    assert from_file == from_stdin
    assert from_file


def test_replay_exit_2_when_file_or_pack_unusable(tmp_path: Path) -> None:
    """A missing file or an invalid rule pack exits 2 with a message."""
    assert _run("replay", str(tmp_path / "absent.jsonl")).returncode == 2
    bad_pack = tmp_path / "rules"
    bad_pack.mkdir()
    result = _run("replay", str(SCENARIO), "--rules", str(bad_pack))
    assert result.returncode == 2
    assert b"rule pack" in result.stderr


def test_rules_check_and_show() -> None:
    """`rules check` validates, `rules show` prints effective thresholds."""
    check = _run("rules", "check")
    assert check.returncode == 0
    assert b"valid" in check.stdout
    show = _run("rules", "show").stdout.decode()
    assert "add_vasopressin" in show
    assert "ne_dose_threshold=15" in show
