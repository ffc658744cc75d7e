"""Scenario files as Kafka input, and the expected alerts from replaying the same records."""

from __future__ import annotations

import io
from pathlib import Path

import orjson

from stream_app.engine.engine import Engine
from stream_app.engine.registry import load_rule_pack
from stream_app.local_kafka import PROJECT_ROOT
from stream_app.replay import replay
from stream_app.settings import Settings

AlertKey = tuple[str, str, str, int, str]  # bed, rule, status, notification, alert_id


def input_records(paths: list[Path]) -> list[bytes]:
    """The Kafka input of the files (no ticks, no comments), merged in event-time order.

    Gateways publish as things happen, so a topic-partition holds its beds' events
    roughly in time order; concatenating files bed after bed would not be a feed.
    """
    records: list[tuple[int, int, bytes]] = []
    for path in paths:
        for line in path.read_bytes().splitlines():
            record = orjson.loads(line)
            if record["kind"] not in ("tick", "comment"):
                records.append((record["ts"], len(records), line))
    return [line for _, _, line in sorted(records)]


def by_topic(settings: Settings, records: list[bytes]) -> dict[str, list[tuple[bytes, bytes]]]:
    topics = {kind: topic for topic, kind in settings.input_kinds.items()}
    out: dict[str, list[tuple[bytes, bytes]]] = {topic: [] for topic in topics.values()}
    for line in records:
        record = orjson.loads(line)
        out[topics[record["kind"]]].append((record["bed_id"].encode(), line))
    return out


def replayed(records: list[bytes]) -> list[AlertKey]:
    out = io.BytesIO()
    replay(records, Engine(load_rule_pack(PROJECT_ROOT / "rules")), out, io.StringIO())
    return [key(orjson.loads(line)) for line in out.getvalue().splitlines()]


def key(alert: dict[str, object]) -> AlertKey:
    return (
        str(alert["bed_id"]),
        str(alert["rule_id"]),
        str(alert["status"]),
        int(str(alert["notification"])),
        str(alert["alert_id"]),
    )


def workload(copies: int) -> list[bytes]:
    """Every scenario, ``copies`` times over on beds of their own, merged in time order.

    Copies after the first drop their acknowledgements (an ack names the alert id of
    the original bed).
    """
    from tests.scenarios.catalogue import FOLDER

    records: list[tuple[int, int, bytes]] = []
    for line in input_records(sorted(FOLDER.glob("*.jsonl"))):
        record = orjson.loads(line)
        for copy in range(copies):
            if copy and record["kind"] == "ack":
                continue
            renamed = {**record, "bed_id": f"{record['bed_id'][:56]}.c{copy}"} if copy else record
            records.append((record["ts"], len(records), orjson.dumps(renamed)))
    return [line for _, _, line in sorted(records)]
