"""Instructions the replay engine, or the worker's processing, executes per event,
counted by callgrind.

    .venv/bin/python -m bench.engine_instructions [--beds 100] [--events 200000]
    .venv/bin/python -m bench.engine_instructions --stage pipeline --beds 1000 --events 50000

Wall-clock timings of the engine moved by 1.4x between runs of the same code on these
machines within minutes, which hides any change worth a few percent. callgrind counts
instructions, the same for the same code, inputs and hash seed whatever else the
machine does. The ``replay`` stage replays the bench workload (``bench.workload``: at
100 beds and 200,000 events, 33 minutes per bed, so every window is full). The
``pipeline`` stage drives the worker's own batch processor in process (decode, input
messages, aligner, engine, state writes, acknowledgements, dead letters) over the
stand-ins of ``tests/stream/processor_harness.py`` for the Faust table and topics,
with the throughput bench's arterial messages (1% junk) in fetches of 10,000 from four
partitions and a state write every tenth fetch, as a draining worker writes about
once a second; what it leaves out is aiokafka, Faust and the broker. Each stage runs
under ``valgrind --tool=callgrind`` twice at once, with the work and without it
(imports, rule pack, workload generation), and prints the difference per event.
About 100 s on two cores. Needs valgrind (Debian's package of that name).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench.throughput import backlog
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


def _inner(stage: str, beds: int, events: int, with_work: bool) -> None:
    if stage == "pipeline":
        _pipeline(beds, events, with_work)
        return
    lines = first_records(beds, events)
    engine = Engine(load_rule_pack(ROOT / "rules"))
    if with_work:
        replay(lines, engine, io.BytesIO(), io.StringIO())


FETCH, PARTITIONS, WRITE_EVERY = 10_000, 4, 10


def _pipeline(beds: int, events: int, with_work: bool) -> None:
    # Imported here: the replay stage needs neither Faust nor the tests' stand-ins.
    from faust.types import TP

    from stream_app.stream.worker import GC_THRESHOLDS
    from tests.stream.processor_harness import TOPIC

    tps = [TP(TOPIC, partition) for partition in range(PARTITIONS)]
    offsets = [0] * PARTITIONS
    records: list[tuple[int, SimpleNamespace]] = []
    for kind, key, value in backlog(beds, events):
        if kind == "arterial":
            partition = int(key[-5:]) % PARTITIONS  # bench bed ids end in five digits
            record = SimpleNamespace(offset=offsets[partition], key=key, value=value, timestamp=1)
            records.append((partition, record))
            offsets[partition] += 1
    if with_work:
        # The worker's collector settings: with Python's defaults, collecting the
        # messages held between state writes cost a sixth of these instructions.
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        asyncio.run(_drain(records, tps))


async def _drain(records: list[tuple[int, Any]], tps: list[Any]) -> None:
    """Fetches as the intake hands them over: partition by partition, in offset order."""
    from stream_app.stream.input_message import InputMessage
    from tests.stream.processor_harness import harness

    bench = harness(state_write_interval_s=1e9)  # written when caught up: every WRITE_EVERY
    bench.processor.assigned(set(range(PARTITIONS)))
    sources = [f"{tp.topic}:{tp.partition}" for tp in tps]
    fetches = range(0, len(records), FETCH)
    for fetch, start in enumerate(fetches):
        fetched = sorted(records[start : start + FETCH], key=lambda item: item[0])
        batch = [InputMessage.of(tps[p], record, 0, sources[p]) for p, record in fetched]
        last = fetch == len(fetches) - 1
        bench.unread["messages"] = 0 if last or fetch % WRITE_EVERY == WRITE_EVERY - 1 else 1
        await bench.processor.add_batch(batch)
        bench.table.deliver_all()
    await bench.processor.flush()  # the last write lands: its messages are acknowledged
    if len(bench.acknowledged) != len(records):
        raise SystemExit(f"{len(bench.acknowledged)} of {len(records)} acknowledged")


def _counted(stage: str, beds: int, events: int, with_work: bool) -> subprocess.Popen[str]:
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "bench.engine_instructions",
        "--stage",
        stage,
        "--beds",
        str(beds),
        "--events",
        str(events),
        "--inner",
        "work" if with_work else "setup",
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--beds", type=int, default=100)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--stage", choices=("replay", "pipeline"), default="replay")
    parser.add_argument("--inner", choices=("work", "setup"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner is not None:
        _inner(args.stage, args.beds, args.events, args.inner == "work")
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind not found: apt-get install valgrind")
    runs = [_counted(args.stage, args.beds, args.events, work) for work in (True, False)]
    total, setup = (collected(run.communicate()[1]) for run in runs)
    print(
        json.dumps(
            {
                "stage": args.stage,
                "beds": args.beds,
                "events": args.events,
                "instructions": total - setup,
                "instructions_per_event": round((total - setup) / args.events),
            }
        )
    )


if __name__ == "__main__":
    main()
