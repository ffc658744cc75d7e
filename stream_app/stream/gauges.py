"""Gauges refreshed on each clock tick: open alerts, and where each owned partition stands."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from stream_app.engine.state import BedState
from stream_app.metrics import Metrics


@dataclass
class AlertCensus:
    """Open episodes by (rule, severity), and the event-time age of the oldest unacknowledged."""

    active: dict[tuple[str, str], int] = field(default_factory=dict)
    oldest_unacknowledged_ms: dict[tuple[str, str], int] = field(default_factory=dict)

    def count(self, state: BedState, bed_now_ms: int) -> None:
        for rule_id, episode in state.episodes.items():
            key = (rule_id, episode.severity)
            self.active[key] = self.active.get(key, 0) + 1
            if not episode.acked and episode.false_since_ms is None:
                age = max(0, bed_now_ms - episode.started_ms)
                self.oldest_unacknowledged_ms[key] = max(
                    age, self.oldest_unacknowledged_ms.get(key, 0)
                )

    def publish(self, metrics: Metrics) -> None:
        # Cleared first so a rule whose last episode closed drops out instead of freezing.
        metrics.active_alerts.clear()
        metrics.oldest_unacknowledged_seconds.clear()
        for (rule_id, severity), count in self.active.items():
            metrics.active_alerts.labels(rule_id, severity).set(count)
        for (rule_id, severity), age_ms in self.oldest_unacknowledged_ms.items():
            metrics.oldest_unacknowledged_seconds.labels(rule_id, severity).set(age_ms / 1000)


def publish_partition_positions(
    metrics: Metrics,
    positions: Mapping[tuple[str, int], tuple[int, int | None]],
    lag: Callable[[str, int, int | None], int | None],
    now_ms: int,
) -> None:
    """Last-event age and consumer lag for every owned input topic-partition."""
    metrics.last_event_age_seconds.clear()
    metrics.consumer_lag.clear()
    for (topic, partition), (heard_ms, last_offset) in positions.items():
        labels = (topic, str(partition))
        metrics.last_event_age_seconds.labels(*labels).set(max(0, now_ms - heard_ms) / 1000)
        behind = lag(topic, partition, last_offset)
        if behind is not None:
            metrics.consumer_lag.labels(*labels).set(behind)
