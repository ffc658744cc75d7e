"""The worker on Kafka gives exactly the alert transitions that replay gives on the same records."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from stream_app.settings import Settings
from tests.integration.conftest import WorkerProcess
from tests.integration.kafka_io import produce, read_until, run
from tests.integration.scenario_feed import by_topic, input_records, key, replayed
from tests.scenarios.catalogue import FOLDER

pytestmark = pytest.mark.kafka


def test_scenarios_live_equal_replay_from_a_backlog(
    worker_settings: Settings, start_worker: Callable[..., WorkerProcess], output_dir: Path
) -> None:
    """All scenario files produced first (a backlog over four topics), then the worker starts.

    Ticks are not Kafka input, so files are compared without them, and the worker's
    own ticks are slowed down to keep wall-clock time out of the comparison.
    """
    s = worker_settings
    records = input_records(sorted(FOLDER.glob("*.jsonl")))
    expected = replayed(records)
    assert len(expected) > 40
    for topic, messages in by_topic(s, records).items():
        run(produce(s.kafka_bootstrap_servers, topic, messages))
    worker = start_worker(tick_interval_s=300)

    def complete(got: list[Any]) -> bool:
        return len({key(orjson.loads(r.value)) for r in got}) >= len(set(expected))

    got = run(read_until(s.kafka_bootstrap_servers, [s.topic_alerts], complete, 120))
    live = [key(orjson.loads(r.value)) for r in got]
    assert worker.alive(), worker.log_text()[-3000:]
    missing, extra = set(expected) - set(live), set(live) - set(expected)
    (output_dir / "difference.json").write_bytes(
        orjson.dumps(
            {"missing": sorted(missing), "extra": sorted(extra)}, option=orjson.OPT_INDENT_2
        )
    )
    assert not missing, f"{len(missing)} missing; see {output_dir / 'difference.json'}"
    assert not extra, f"{len(extra)} invented; see {output_dir / 'difference.json'}"
    assert len(live) == len(expected), "no transition produced twice without a crash"
