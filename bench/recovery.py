"""Time for a new worker to take over 10,000 beds after the previous one is killed
with SIGKILL: from its start until it is ready (group joined, bed state recovered
from the changelog) and holds every bed again."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import orjson

from bench.harness import Worker, bench_settings, metrics, total
from bench.throughput import produce_backlog

START = 1_772_352_000_000


def run(bootstrap: str, workdir: Path, beds: int = 10_000) -> dict[str, float]:
    settings = bench_settings(bootstrap, workdir, "recovery", tick_interval_s=1)
    messages = []
    for index in range(beds):
        bed = f"rec-{index:05d}"
        pump = {"bed_id": bed, "ts": START, "pump_id": "p1", "drug": "norepinephrine",
                "status": "running", "rate": 8, "rate_unit": "mcg/min"}  # fmt: skip
        messages.append(("infusion", bed.encode(), orjson.dumps(pump)))
        for offset_s in range(0, 600, 60):  # ten minutes of windows per bed
            sample = {"bed_id": bed, "ts": START + offset_s * 1000, "map": 70}
            messages.append(("arterial", bed.encode(), orjson.dumps(sample)))
    asyncio.run(produce_backlog(settings, messages))
    first = Worker(settings, workdir / "recovery-1.log").start()
    first.wait_ready()
    deadline = time.monotonic() + 900
    while total(metrics(settings.web_port), "vasowatch_events_consumed_total") < len(messages):
        if time.monotonic() > deadline:
            raise SystemExit("the first worker did not apply the backlog")
        time.sleep(0.5)
    time.sleep(3)  # let the last state writes reach the changelog
    first.kill()
    began = time.perf_counter()
    second = Worker(settings, workdir / "recovery-2.log").start()
    try:
        ready_s = second.wait_ready(600)
        while metrics(settings.web_port).get("vasowatch_beds_in_state", 0) < beds:
            if time.perf_counter() - began > 900:
                raise SystemExit("the second worker did not recover every bed")
            time.sleep(0.2)
        return {
            "beds": beds,
            "ready_s": round(ready_s, 1),
            "all_beds_s": round(time.perf_counter() - began, 1),
        }
    finally:
        second.stop()
