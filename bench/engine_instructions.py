"""Instructions the replay engine executes per event, counted by callgrind.

    .venv/bin/python -m bench.engine_instructions [--beds 100] [--events 200000]

Wall-clock timings of the engine moved by 1.4x between runs of the same code on these
machines within minutes, which hides any change worth a few percent. callgrind counts
instructions, the same for the same code, inputs and hash seed whatever else the
machine does. This replays the bench workload (``bench.workload``: at 100 beds and
200,000 events, 33 minutes per bed, so every window is full) under
``valgrind --tool=callgrind`` twice at once, with the replay and without it (imports,
rule pack, workload generation), and prints the difference per event. About 100 s
on two cores. Needs valgrind (Debian's package of that name).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from bench.workload import first_records
from stream_app.engine.engine import Engine
from stream_app.engine.registry import load_rule_pack
from stream_app.replay import replay

ROOT = Path(__file__).resolve().parents[1]
_COLLECTED = re.compile(r"Collected : (\d+)")


def collected(valgrind_stderr: str) -> int:
    """The instruction count callgrind reports as it exits."""
    found = _COLLECTED.search(valgrind_stderr)
    if found is None:
        raise SystemExit(f"callgrind reported no count:\n{valgrind_stderr[-2000:]}")
    return int(found.group(1))


def _inner(beds: int, events: int, with_replay: bool) -> None:
    lines = first_records(beds, events)
    engine = Engine(load_rule_pack(ROOT / "rules"))
    if with_replay:
        replay(lines, engine, io.BytesIO(), io.StringIO())


def _counted(beds: int, events: int, with_replay: bool) -> subprocess.Popen[str]:
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "bench.engine_instructions",
        "--beds",
        str(beds),
        "--events",
        str(events),
        "--inner",
        "replay" if with_replay else "setup",
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--beds", type=int, default=100)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--inner", choices=("replay", "setup"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner is not None:
        _inner(args.beds, args.events, args.inner == "replay")
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind not found: apt-get install valgrind")
    runs = [_counted(args.beds, args.events, with_replay) for with_replay in (True, False)]
    total, setup = (collected(run.communicate()[1]) for run in runs)
    print(
        json.dumps(
            {
                "beds": args.beds,
                "events": args.events,
                "replay_instructions": total - setup,
                "instructions_per_event": round((total - setup) / args.events),
            }
        )
    )


if __name__ == "__main__":
    main()
