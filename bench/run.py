"""The benchmark, one command: python -m bench.run [--quick]

Starts its own Apache Kafka broker (free ports, temporary data) and measures, in one
run: the bare-aiokafka limit and the vasowatch worker draining the same backlog at
several bed counts; end-to-end latency at fixed offered loads; state memory per bed;
recovery of 10,000 beds after kill -9; the offline replay engine. Writes
bench/results/latest.json, the plots in docs/, and the generated section of
docs/benchmarks.md, after comparing the ratios with the previous run's (a drop of
more than 20% at any bed count both drained is reported and makes the exit code 1).
``--quick`` tries the harness at small sizes: it writes bench/results/quick.json
only, so the recorded run and the documents keep the last full run.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import latency, memory, recovery, throughput
from bench.harness import Worker, bench_settings
from bench.report import plot, write_markdown
from bench.workload import first_records
from stream_app.engine.engine import Engine
from stream_app.engine.registry import load_rule_pack
from stream_app.local_kafka import KAFKA_VERSION, PROJECT_ROOT, LocalKafka
from stream_app.replay import replay

RESULTS = PROJECT_ROOT / "bench" / "results" / "latest.json"
QUICK_RESULTS = RESULTS.with_name("quick.json")
# A ratio below this share of the previous run's is a regression: the same code's
# median ratio moved by up to a tenth between runs on these machines.
REGRESSION_SHARE = 0.8


def machine() -> dict[str, Any]:
    java = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "java": (java.stderr.splitlines() or ["?"])[0],
        "kafka": KAFKA_VERSION,
        "date": time.strftime("%Y-%m-%d"),
    }


def replay_seconds(events: int) -> float:
    """Seconds to replay ``events`` lines of the workload (500 beds: 33 minutes each at
    1M, so every window is full, as in a long replay), from memory to memory."""
    lines = first_records(500, events)
    engine = Engine(load_rule_pack(PROJECT_ROOT / "rules"))
    began = time.perf_counter()
    replay(lines, engine, io.BytesIO(), io.StringIO())
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the harness")
    args = parser.parse_args()
    quick = args.quick
    results = QUICK_RESULTS if quick else RESULTS
    previous = json.loads(results.read_text()) if results.exists() else None
    workdir = Path(tempfile.mkdtemp(prefix="vasowatch-bench-"))
    broker = LocalKafka(port=_port(), controller_port=_port(), state_dir=workdir / "kafka")
    broker.start()
    result: dict[str, Any] = {
        "machine": machine(),
        "command": "python -m bench.run" + (" --quick" if quick else ""),
    }
    try:
        bootstrap = broker.bootstrap_servers
        drains = [throughput.run(bootstrap, workdir, beds, 20_000 if quick else throughput.EVENTS)
                  for beds in ((100, 1000) if quick else (100, 1_000, 10_000))]  # fmt: skip
        result["throughput"] = drains
        main_drain = next(d for d in drains if d["beds"] == 1000)
        result.update(
            {k: main_drain[k] for k in ("limit_events_per_s", "vasowatch_events_per_s", "ratio")}
        )
        settings = bench_settings(bootstrap, workdir, "latency", tick_interval_s=5, max_beds=50_000)
        worker = Worker(settings, workdir / "latency.log").start()
        try:
            worker.wait_ready()
            loads = (1_000, 5_000) if quick else (1_000, 5_000, 20_000)
            measured = [
                asyncio.run(latency.measure(settings, rate, seconds=10 if quick else 20))
                for rate in loads
            ]
        finally:
            worker.stop()
        result["latency_ms"] = {str(m["offered_events_per_s"]): m for m in measured}
        result["bytes_per_bed"] = memory.measure_in_fresh_process(
            PROJECT_ROOT, (1_000, 5_000) if quick else (1_000, 10_000, 50_000)
        )
        result["heap_bytes_per_bed"] = memory.heap_per_bed(PROJECT_ROOT)
        rec = recovery.run(bootstrap, workdir, 2_000 if quick else 10_000)
        result["recovery"] = rec
        result["recovery_s_10k_beds"] = rec["all_beds_s"] if rec["beds"] == 10_000 else None
        replay_events = 50_000 if quick else 1_000_000
        seconds = replay_seconds(replay_events)
        result["replay_events"] = replay_events
        result["replay_seconds"] = round(seconds, 2)
        result["replay_events_per_s"] = round(replay_events / seconds)
    finally:
        broker.stop()
    regression = _compare(previous, result)
    result["regression"] = regression
    results.write_text(json.dumps(result, indent=2) + "\n")
    if not quick:
        plot(result, PROJECT_ROOT / "docs")
        write_markdown(result, PROJECT_ROOT / "docs" / "benchmarks.md")
    print(json.dumps(result, indent=2))
    return 1 if regression else 0


def _compare(previous: dict[str, Any] | None, current: dict[str, Any]) -> str | None:
    """Ratios, not absolute times: a slower machine slows the limit as much as vasowatch.

    Every bed count both runs drained is compared (a run recorded before the per-bed
    table is compared on its one headline ratio, at 1,000 beds)."""
    if not previous:
        return None
    before = {d["beds"]: d["ratio"] for d in previous.get("throughput", [])}
    if not before and previous.get("ratio"):
        before = {1000: previous["ratio"]}
    fell = [
        f"{drain['beds']:,} beds: {before[drain['beds']]} -> {drain['ratio']}"
        for drain in current.get("throughput", [])
        if before.get(drain["beds"]) and drain["ratio"] < REGRESSION_SHARE * before[drain["beds"]]
    ]
    return "ratio fell at " + "; ".join(fell) if fell else None


def _port() -> int:
    from bench.harness import free_port

    return free_port()


if __name__ == "__main__":
    raise SystemExit(main())
