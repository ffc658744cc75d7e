"""Prometheus metrics, built on a given registry so tests can use a fresh one.

No label ever carries a bed, patient or encounter identifier.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram


@dataclass(frozen=True)
class Metrics:
    events_consumed: Counter
    dead_letters: Counter
    batch_size: Histogram
    batch_seconds: Histogram


def build_metrics(registry: CollectorRegistry) -> Metrics:
    return Metrics(
        events_consumed=Counter(
            "vasowatch_events_consumed",
            "Events applied, by source topic and kind.",
            ["topic", "kind"],
            registry=registry,
        ),
        dead_letters=Counter(
            "vasowatch_dead_letters",
            "Messages sent to the dead-letter topic, by reason.",
            ["reason", "topic"],
            registry=registry,
        ),
        batch_size=Histogram(
            "vasowatch_batch_size",
            "Messages per processed batch.",
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000),
            registry=registry,
        ),
        batch_seconds=Histogram(
            "vasowatch_batch_seconds",
            "Wall time to process one batch.",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=registry,
        ),
    )
