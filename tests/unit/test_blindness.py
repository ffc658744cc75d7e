"""The worker's own blindness alert: silent partitions fire, speaking ones resolve."""

from __future__ import annotations

from stream_app.domain.alerts import Alert
from stream_app.stream.blindness import BlindnessWatch


def test_silent_partition_fires_once_and_resolves_when_it_speaks() -> None:
    """One firing per silence, stable alert_id, a resolution when data returns; the
    worker's hook hears of each partition once, as it goes silent."""
    went_silent: list[int] = []
    watch = BlindnessWatch(
        "vasowatch", silence_ms=120_000, rulepack_version="v1", on_silent=went_silent.append
    )
    assert watch.check({0: 1_000, 1: 1_000}, 60_000) == []
    fired = watch.check({0: 1_000, 1: 100_000}, 121_000)
    assert [(d["bed_id"], d["status"]) for d in fired] == [("vasowatch-partition-0", "firing")]
    Alert.model_validate(fired[0])  # the same document shape as clinical alerts
    assert watch.check({0: 1_000, 1: 100_000}, 130_000) == []
    assert went_silent == [0]
    resolved = watch.check({0: 131_000, 1: 131_000}, 131_500)
    assert [(d["status"], d["alert_id"]) for d in resolved] == [("resolved", fired[0]["alert_id"])]


def test_partition_no_longer_owned_is_forgotten() -> None:
    """After a rebalance the new owner watches the partition; no stale resolution is sent."""
    watch = BlindnessWatch("vasowatch", silence_ms=1_000, rulepack_version="v1")
    assert len(watch.check({3: 0}, 5_000)) == 1
    assert watch.check({}, 6_000) == []
    assert watch.silent() == set()
