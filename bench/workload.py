"""A repeatable synthetic workload in replay form: B beds, 1 Hz arterial numerics,
pump changes every few minutes, hourly lactate and urine output."""

from __future__ import annotations

import random
from collections.abc import Iterator
from itertools import islice

import orjson

START_MS = 1_772_352_000_000  # 2026-03-01T08:00:00Z


def records(beds: int, seconds: int, seed: int = 7) -> Iterator[bytes]:
    """JSON Lines records in event-time order (all beds interleaved second by second)."""
    rng = random.Random(seed)
    maps = [rng.uniform(55, 90) for _ in range(beds)]
    rates = [rng.choice([4.0, 8.0, 12.0, 18.0]) for _ in range(beds)]
    for second in range(seconds):
        ts = START_MS + second * 1000
        for bed in range(bed_count := beds):
            bed_id = f"bench-{bed:05d}"
            if second % 240 == bed % 240:  # a pump change every 4 minutes per bed
                rates[bed] = max(0.0, rates[bed] + rng.choice([-2.0, 0.0, 2.0]))
                yield orjson.dumps(
                    {
                        "kind": "infusion",
                        "bed_id": bed_id,
                        "ts": ts,
                        "pump_id": "p1",
                        "drug": "norepinephrine",
                        "status": "running",
                        "rate": rates[bed],
                        "rate_unit": "mcg/min",
                    }
                )
            if second % 3600 == bed % 3600:
                yield orjson.dumps(
                    {
                        "kind": "observation",
                        "bed_id": bed_id,
                        "ts": ts,
                        "code": "lactate",
                        "value": round(rng.uniform(1, 4), 1),
                        "unit": "mmol/L",
                    }
                )
            maps[bed] = min(110.0, max(45.0, maps[bed] + rng.uniform(-1.5, 1.5)))
            yield orjson.dumps(
                {
                    "kind": "arterial",
                    "bed_id": bed_id,
                    "ts": ts,
                    "map": round(maps[bed], 1),
                    "hr": 95,
                }
            )
        del bed_count


def first_records(beds: int, events: int) -> list[bytes]:
    """The workload's first ``events`` records for ``beds`` beds."""
    return list(islice(records(beds, events // beds + 1), events))
