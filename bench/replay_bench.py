"""Offline replay throughput: the pure engine plus decoding, on one core.

.venv/bin/python -m bench.replay_bench --events 1000000
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import time
from pathlib import Path

from bench.workload import first_records
from stream_app.engine.engine import Engine
from stream_app.engine.registry import load_rule_pack
from stream_app.replay import replay

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--beds", type=int, default=500)
    args = parser.parse_args()
    lines = first_records(args.beds, args.events)
    engine = Engine(load_rule_pack(ROOT / "rules"))
    out = io.BytesIO()
    started = time.perf_counter()
    summary = replay(lines, engine, out, io.StringIO())
    elapsed = time.perf_counter() - started
    result = {
        "events": len(lines),
        "beds": args.beds,
        "seconds": round(elapsed, 2),
        "events_per_s": round(len(lines) / elapsed),
        "transitions": summary.transitions,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
