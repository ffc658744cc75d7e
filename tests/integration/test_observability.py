"""What the ops team sees of a running worker: a real Prometheus server scrapes it, the
gauges ops page on are there, and no identifier beyond the bed id leaks into metrics."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
import yaml

from stream_app.local_kafka import PROJECT_ROOT
from stream_app.settings import Settings
from tests.integration.conftest import WorkerProcess, free_port
from tests.integration.kafka_io import produce, produce_feed, read_until, run, wait_ready
from tests.integration.scenario_feed import input_records, key, replayed
from tests.scenarios.catalogue import FOLDER

pytestmark = pytest.mark.kafka

# Values a careless gateway might put in fields the contract does not have.
PATIENT_NAME = "Zyxwvut Quuxington"
RECORD_NUMBER = "MRN-99887766"


def metrics_text(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        return str(reply.read().decode())


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Callable[[int], str]]:
    """Factory: a real Prometheus server (Debian's package) scraping a worker every second."""
    binary = shutil.which("prometheus")
    assert binary, "prometheus missing: `make test` installs Debian's prometheus package"
    started: list[subprocess.Popen[bytes]] = []

    def start(worker_port: int) -> str:
        config = yaml.safe_load((PROJECT_ROOT / "deploy/prometheus/prometheus.yml").read_text())
        config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
        config["rule_files"] = [str(PROJECT_ROOT / "deploy/prometheus/alerts.yml")]
        config["scrape_configs"][0]["static_configs"] = [{"targets": [f"127.0.0.1:{worker_port}"]}]
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
        port = free_port()
        with (tmp_path / "prometheus.log").open("wb") as log:
            started.append(
                subprocess.Popen(
                    [
                        binary,
                        f"--config.file={tmp_path / 'prometheus.yml'}",
                        f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                        f"--web.listen-address=127.0.0.1:{port}",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        return f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        process.terminate()
        process.wait(20)


def query(base: str, promql: str) -> list[dict[str, object]]:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            result: list[dict[str, object]] = json.loads(reply.read())["data"]["result"]
            return result
    except OSError:
        return []


def test_prometheus_scrapes_the_worker_and_metrics_carry_no_identifiers(
    worker_settings: Settings,
    start_worker: Callable[..., WorkerProcess],
    prometheus: Callable[[int], str],
) -> None:
    s = worker_settings
    worker = start_worker(tick_interval_s=1)
    assert wait_ready(s.web_port), worker.log_text()[-3000:]
    base = prometheus(s.web_port)
    records = [
        orjson.dumps(
            {
                **r,
                "bed_id": f"ward7-{r['bed_id'][:8]}",
                "encounter_id": f"enc-4417-{r['bed_id'][:8]}",
            }
        )
        for r in (
            orjson.loads(line)
            for line in input_records(
                [
                    FOLDER / "add_vasopressin_map_low.jsonl",
                    FOLDER / "vasopressin_above_ceiling.jsonl",
                ]
            )
        )
    ]
    topics = {kind: topic for topic, kind in s.input_kinds.items()}
    run(produce_feed(s.kafka_bootstrap_servers, topics, records))
    leaky = {
        "bed_id": "privacy-bed",
        "ts": int(time.time() * 1000),
        "map": 70,
        "patient_name": PATIENT_NAME,
        "mrn": RECORD_NUMBER,
    }
    # Unknown fields are ignored by contract; a wrong one is dead-lettered: neither may echo.
    invalid = {**leaky, "map": PATIENT_NAME, "heart_rate": RECORD_NUMBER}
    run(
        produce(
            s.kafka_bootstrap_servers,
            topics["arterial"],
            [(b"privacy-bed", orjson.dumps(leaky)), (b"privacy-bed", orjson.dumps(invalid))],
        )
    )
    expected = set(replayed(records))
    run(
        read_until(
            s.kafka_bootstrap_servers,
            [s.topic_alerts],
            lambda got: {key(orjson.loads(r.value)) for r in got} >= expected,
            90,
        )
    )

    # The gauges refreshed on the clock tick, Faust's sensor, and process resources.
    deadline = time.monotonic() + 30
    wanted = (
        "vasowatch_consumer_lag{",
        "vasowatch_last_event_age_seconds{",
        "vasowatch_active_alerts{",
        "vasowatch_oldest_unacknowledged_alert_seconds{",
        "process_resident_memory_bytes",
        'vasowatch_dead_letters_total{reason="wrong_type"',
    )
    text = metrics_text(s.web_port)
    while time.monotonic() < deadline and not all(w in text for w in wanted):
        time.sleep(0.5)
        text = metrics_text(s.web_port)
    assert all(w in text for w in wanted), [w for w in wanted if w not in text]

    identifiers = {orjson.loads(line)["bed_id"] for line in records} | {"privacy-bed"}
    identifiers |= {"enc-4417"}
    for secret in (*identifiers, PATIENT_NAME, RECORD_NUMBER):
        assert secret not in text, f"{secret!r} reached /metrics"
    for secret in (PATIENT_NAME, RECORD_NUMBER):
        assert secret not in worker.log_text(), f"{secret!r} reached the worker's log"

    # A real Prometheus scrapes it, and the ops rules load against it.
    deadline = time.monotonic() + 60
    consumed: list[dict[str, object]] = []
    while time.monotonic() < deadline and not consumed:
        consumed = query(base, "sum(vasowatch_events_consumed_total) > 0")
        time.sleep(1)
    assert consumed, (Path(worker.log_path).parent / "prometheus.log").read_text()[-2000:]
    assert query(base, 'up{job="vasowatch"} == 1')
    assert query(base, "vasowatch_rulepack_info")
    with urllib.request.urlopen(f"{base}/api/v1/rules", timeout=5) as reply:
        groups = json.loads(reply.read())["data"]["groups"]
    assert sum(len(g["rules"]) for g in groups) == 10
    for group in groups:
        for rule in group["rules"]:
            assert rule["health"] == "ok", rule
