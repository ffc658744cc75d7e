"""Prometheus metrics, built on a given registry so tests can use a fresh one.

No label ever carries a bed, patient or encounter identifier: labels are topics,
partitions, reasons, rule ids, severities and statuses, all from fixed sets.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
)

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


@dataclass(frozen=True)
class Metrics:
    events_consumed: Counter
    dead_letters: Counter
    artifacts: Counter
    event_notes: Counter
    alerts_emitted: Counter
    active_alerts: Gauge
    beds_in_state: Gauge
    held_messages: Gauge
    batch_size: Histogram
    batch_seconds: Histogram
    event_to_alert_seconds: Histogram
    append_to_alert_seconds: Histogram
    last_event_age_seconds: Gauge
    consumer_lag: Gauge
    oldest_unacknowledged_seconds: Gauge
    partition_silent: Gauge
    rulepack: Info


def build_metrics(registry: CollectorRegistry) -> Metrics:
    """The domain metrics, plus process, platform and garbage-collector resources."""
    for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        registry.register(collector)
    return Metrics(
        events_consumed=Counter(
            "vasowatch_events_consumed",
            "Events decoded and applied, by source topic and kind.",
            ["topic", "kind"],
            registry=registry,
        ),
        dead_letters=Counter(
            "vasowatch_dead_letters",
            "Messages (or batch elements) sent to the dead-letter "
            "topic, by reason and source topic.",
            ["reason", "topic"],
            registry=registry,
        ),
        artifacts=Counter(
            "vasowatch_artifacts",
            "Arterial samples kept out of every window as artifacts.",
            ["kind"],
            registry=registry,
        ),
        event_notes=Counter(
            "vasowatch_event_notes",
            "Events that were late, duplicate, superseded or of an untracked drug.",
            ["note"],
            registry=registry,
        ),
        alerts_emitted=Counter(
            "vasowatch_alerts_emitted",
            "Alert transitions produced to the alerts topic.",
            ["rule_id", "severity", "status"],
            registry=registry,
        ),
        active_alerts=Gauge(
            "vasowatch_active_alerts",
            "Alert episodes currently open on this worker's beds.",
            ["rule_id", "severity"],
            registry=registry,
        ),
        beds_in_state=Gauge(
            "vasowatch_beds_in_state",
            "Beds this worker holds state for.",
            registry=registry,
        ),
        held_messages=Gauge(
            "vasowatch_held_messages",
            "Messages held back to align event time across topics.",
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
        event_to_alert_seconds=Histogram(
            "vasowatch_event_to_alert_seconds",
            "From the event time of the message that caused an alert transition to its produce.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
        append_to_alert_seconds=Histogram(
            "vasowatch_append_to_alert_seconds",
            "From the broker append time of the message "
            "that caused an alert transition to its produce.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
        last_event_age_seconds=Gauge(
            "vasowatch_last_event_age_seconds",
            "Wall time since the last message on each owned input partition.",
            ["topic", "partition"],
            registry=registry,
        ),
        consumer_lag=Gauge(
            "vasowatch_consumer_lag",
            "Messages on each owned input partition not yet received by this worker.",
            ["topic", "partition"],
            registry=registry,
        ),
        oldest_unacknowledged_seconds=Gauge(
            "vasowatch_oldest_unacknowledged_alert_seconds",
            "Event-time age of the oldest firing, unacknowledged alert episode.",
            ["rule_id", "severity"],
            registry=registry,
        ),
        partition_silent=Gauge(
            "vasowatch_partition_silent",
            "1 while an owned input partition has delivered nothing for the configured time.",
            ["partition"],
            registry=registry,
        ),
        rulepack=Info(
            "vasowatch_rulepack",
            "The loaded rule pack.",
            registry=registry,
        ),
    )
