"""The simulator: seeded and repeatable, physiologically plausible, and its library makes
every rule fire while stable beds stay silent."""

from __future__ import annotations

import io
import statistics
from datetime import datetime

import orjson
import pytest

from stream_app.engine.engine import Engine
from stream_app.engine.registry import RULES, load_rule_pack
from stream_app.local_kafka import PROJECT_ROOT
from stream_app.replay import replay
from stream_app.simulator.model import MINUTE_MS, BedFeed
from stream_app.simulator.run import Unit, write_jsonl
from stream_app.simulator.scenarios import LIBRARY, scenario_for

START = 1_772_352_000_000


def feed_bytes(unit: Unit, minutes: float) -> bytes:
    out = io.BytesIO()
    write_jsonl(unit, minutes, START, out)
    return out.getvalue()


def alerts_of(feed: bytes) -> list[dict[str, object]]:
    out = io.BytesIO()
    replay(feed.splitlines(), Engine(load_rule_pack(PROJECT_ROOT / "rules")), out, io.StringIO())
    return [orjson.loads(line) for line in out.getvalue().splitlines()]


def minute_of(alert: dict[str, object]) -> float:
    started = datetime.fromisoformat(str(alert["started_at"])).timestamp() * 1000
    return (started - START) / MINUTE_MS


@pytest.fixture(scope="module")
def seven_hours() -> list[dict[str, object]]:
    """24 beds for 7 hours (long enough for the 6-hour peripheral-line rule)."""
    return alerts_of(feed_bytes(Unit(beds=24, rate_hz=0.2, seed=3), 7 * 60))


def test_same_seed_same_feed_however_time_is_sliced() -> None:
    assert feed_bytes(Unit(beds=4, seed=9), 10) == feed_bytes(Unit(beds=4, seed=9), 10)
    assert feed_bytes(Unit(beds=4, seed=9), 10) != feed_bytes(Unit(beds=4, seed=10), 10)
    whole = BedFeed("b", LIBRARY[1], START, seed=5).until(START + 10 * MINUTE_MS)
    sliced = BedFeed("b", LIBRARY[1], START, seed=5)
    pieces = [r for second in range(1, 601) for r in sliced.until(START + second * 1000)]
    assert pieces == whole


def test_map_follows_the_dose_with_lag_and_noise() -> None:
    responder = next(s for s in LIBRARY if s.name == "responding_to_norepinephrine")
    records = BedFeed("b", responder, START, seed=1).until(START + 30 * MINUTE_MS)
    maps = [(r["ts"], r["map"]) for r in records if r["kind"] == "arterial"]
    first_minute = [m for ts, m in maps if ts < START + MINUTE_MS]
    settled = [m for ts, m in maps if ts >= START + 20 * MINUTE_MS]
    assert statistics.mean(first_minute) < responder.untreated_map + 8  # the lag
    assert statistics.mean(settled) > responder.untreated_map + 15  # the response
    assert statistics.stdev(settled) > 1  # the noise


def test_every_rule_fires_somewhere_in_the_library(seven_hours) -> None:  # type: ignore[no-untyped-def]
    fired = {a["rule_id"] for a in seven_hours if a["status"] == "firing"}
    assert fired == {rule.rule_id for rule in RULES}


def test_each_story_raises_what_it_is_meant_to_and_stable_beds_stay_silent(seven_hours) -> None:  # type: ignore[no-untyped-def]
    by_bed: dict[str, set[object]] = {}
    for alert in seven_hours:
        by_bed.setdefault(str(alert["bed_id"]), set()).add(alert["rule_id"])
    for index in range(24):
        scenario = scenario_for(index)
        raised = by_bed.get(f"bed-{index + 1:02d}", set())
        if scenario.alerts:
            assert set(scenario.alerts) <= raised, scenario.name
        else:
            assert not raised, (scenario.name, raised)


def test_first_alerts_within_three_minutes() -> None:
    alerts = alerts_of(feed_bytes(Unit(beds=24), 3))
    early = {a["bed_id"] for a in alerts if a["status"] == "firing" and minute_of(a) <= 3}
    assert len(early) >= 6, early
