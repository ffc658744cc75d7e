"""Throughput of one worker draining a backlog, with the full clinical rule pack.

    .venv/bin/python -m bench.worker_bench --events 200000 --beds 1000 [--batched 10]

Starts its own Apache Kafka broker (free ports, temporary data), produces the
workload to the input topics, starts `vasowatch worker` and measures until its
metrics show every event applied: from its metrics' first answer (join and table
recovery included), and from its first applied events (the rate and the CPU per
event of worker and broker while events flow).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer

from bench.harness import cpu_seconds, metrics, total
from bench.harness import free_port as _port
from bench.workload import first_records
from stream_app.local_kafka import LocalKafka
from stream_app.settings import Settings
from stream_app.stream.topics import ensure_topics


def _drain(port: int, events: int, worker_pid: int, broker_pid: int | None) -> dict[str, float]:
    """Wait until the worker has applied ``events``; its rates and CPU per event."""
    began = time.perf_counter()
    first: tuple[float, float] | None = None  # (time, events) when the first showed
    cpu_at_first = (0.0, 0.0)
    while (consumed := _consumed(port)) < events:
        if first is None and consumed > 0:
            first = (time.perf_counter(), consumed)
            cpu_at_first = (cpu_seconds(worker_pid), cpu_seconds(broker_pid))
        time.sleep(0.05)
        if time.perf_counter() - began > 900:
            raise SystemExit("worker did not drain the backlog in 15 minutes")
    ended = time.perf_counter()
    # From the first applied events on: without the group join and table recovery
    # (seconds that a longer drain would dilute), so paired runs differ less. CPU per
    # event is steadier still on a machine whose speed drifts.
    first_at, first_events = first or (began, 0.0)
    flowing = events - first_events
    return {
        "drain_s": round(ended - began, 1),
        "events_per_s": round(events / (ended - began)),
        "flowing_events_per_s": round(flowing / max(ended - first_at, 1e-9)),
        "worker_cpu_us_per_event": round(
            1e6 * (cpu_seconds(worker_pid) - cpu_at_first[0]) / flowing, 2
        ),
        "broker_cpu_us_per_event": round(
            1e6 * (cpu_seconds(broker_pid) - cpu_at_first[1]) / flowing, 2
        ),
    }


def _consumed(port: int) -> float:
    exported = metrics(port)
    return total(exported, "vasowatch_events_consumed_total") if exported else -1


async def _produce(settings: Settings, lines: list[bytes], batched: int) -> None:
    topics = {kind: topic for topic, kind in settings.input_kinds.items()}
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=True,
        linger_ms=20,
        max_batch_size=256 * 1024,
    )
    await producer.start()
    pending: dict[tuple[str, str], list[bytes]] = {}
    try:
        for line in lines:
            record = orjson.loads(line)
            group = pending.setdefault((record["kind"], record["bed_id"]), [])
            group.append(line)
            if len(group) >= batched:
                value = group[0] if batched == 1 else b"[" + b",".join(group) + b"]"
                await producer.send(
                    topics[record["kind"]], key=record["bed_id"].encode(), value=value
                )
                group.clear()
        for (kind, bed), group in pending.items():
            if group:
                await producer.send(
                    topics[kind], key=bed.encode(), value=b"[" + b",".join(group) + b"]"
                )
        await producer.flush()
    finally:
        await producer.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--beds", type=int, default=1000)
    parser.add_argument("--batched", type=int, default=1, help="events per message")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="record the worker with py-spy into this collapsed-stack file",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vasowatch-bench-"))
    broker = LocalKafka(port=_port(), controller_port=_port(), state_dir=tmp / "kafka")
    broker.start()
    worker = None
    try:
        settings = Settings(
            kafka_bootstrap_servers=broker.bootstrap_servers,
            web_port=_port(),
            data_dir=tmp / "worker",
            app_id="bench",
            tick_interval_s=60,
        )
        asyncio.run(ensure_topics(settings))
        lines = first_records(args.beds, args.events)
        began = time.perf_counter()
        asyncio.run(_produce(settings, lines, args.batched))
        produce_s = time.perf_counter() - began
        env = {
            **os.environ,
            **{
                f"VASOWATCH_{k.upper()}": str(v)
                for k, v in settings.model_dump(exclude_none=True).items()
            },
        }
        env["VASOWATCH_LOG_LEVEL"] = "WARNING"
        worker = subprocess.Popen(
            [sys.executable, "-m", "stream_app", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(tmp / "worker.log").open("w"),
        )
        while _consumed(settings.web_port) < 0:
            time.sleep(0.2)
        profiler = None
        if args.profile is not None:  # sample the draining worker for 15 s
            profiler = subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("py-spy")),
                    "record",
                    "--pid",
                    str(worker.pid),
                    "--duration",
                    "15",
                    "--rate",
                    "200",
                    "--format",
                    "raw",
                    "-o",
                    str(args.profile),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        drained = _drain(settings.web_port, len(lines), worker.pid, broker.running_pid())
        if profiler is not None:
            profiler.wait(60)
        print(
            json.dumps(
                {
                    "events": len(lines),
                    "beds": args.beds,
                    "events_per_message": args.batched,
                    "produce_s": round(produce_s, 1),
                    **drained,
                }
            )
        )
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        broker.stop()


if __name__ == "__main__":
    main()
