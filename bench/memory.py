"""State memory per bed: beds with a full half hour of windows, measured in process
(RSS growth per bed, and the encoded size the changelog stores per bed)."""

from __future__ import annotations

import gc
import os
import tracemalloc
from pathlib import Path

from stream_app.domain.drugs import Drug
from stream_app.domain.events import ArterialSample, PumpUpdate
from stream_app.engine.engine import Engine
from stream_app.engine.registry import load_rule_pack
from stream_app.engine.state import BedState

START = 1_772_352_000_000
BUCKET_MS = 30_000


def _rss() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def _bed(engine: Engine, index: int) -> BedState:
    bed = f"mem-{index:06d}"
    state = engine.apply(
        None,
        PumpUpdate(bed, START, "e1", "p1", Drug.NOREPINEPHRINE, True, 8.0, False, 80.0, "central"),
    ).state
    for bucket in range(62):  # one sample per 30-s bucket: every window of the pack is full
        ts = START + bucket * BUCKET_MS
        state = engine.apply(
            state, ArterialSample(bed, ts, "e1", 70.0 + bucket % 5, 110.0, 50.0, 90.0)
        ).state
    return state


def heap_per_bed(root: Path, beds: int = 1_000) -> int:
    """Python heap allocated per bed (state and the engine's per-bed memo), by tracemalloc."""
    engine = Engine(load_rule_pack(root / "rules"))
    tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        kept = [_bed(engine, index) for index in range(beds)]
        gc.collect()
        return (tracemalloc.get_traced_memory()[0] - before) // len(kept)
    finally:
        tracemalloc.stop()


def bytes_per_bed(
    root: Path, counts: tuple[int, ...] = (1_000, 10_000, 50_000)
) -> dict[str, dict[str, int]]:
    """Process RSS growth per bed (what ops see) and encoded state size per bed."""
    engine = Engine(load_rule_pack(root / "rules"))
    beds: list[BedState] = []
    gc.collect()
    base = _rss()
    out: dict[str, dict[str, int]] = {}
    for count in counts:
        while len(beds) < count:
            beds.append(_bed(engine, len(beds)))
        gc.collect()
        encoded = sum(len(state.to_bytes()) for state in beds) // len(beds)
        out[str(count)] = {"rss": (_rss() - base) // len(beds), "encoded": encoded}
    return out


def measure_in_fresh_process(root: Path, counts: tuple[int, ...]) -> dict[str, dict[str, int]]:
    """RSS growth means something only in a process that has not used memory before."""
    import json
    import subprocess
    import sys

    script = (
        "import json, sys; from pathlib import Path; from bench.memory import bytes_per_bed; "
        f"print(json.dumps(bytes_per_bed(Path({str(root)!r}), {counts!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    )
    result: dict[str, dict[str, int]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
