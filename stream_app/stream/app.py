"""The Faust application: topics, the bed-state table and the batch agent.

The agent is thin: it takes a batch, hands it to ``BatchProcessor`` and lets
Faust acknowledge the batch only after the processor's sends have completed.
"""

from __future__ import annotations

from typing import Any, cast

import faust
from prometheus_client import CollectorRegistry

from stream_app.exceptions import ConfigurationError
from stream_app.metrics import build_metrics
from stream_app.settings import Settings
from stream_app.stream.deadletter import DeadLetterPolicy
from stream_app.stream.processor import BatchProcessor, TableBedStore

BED_STATE_TABLE = "bed-state"


def create_app(settings: Settings, registry: CollectorRegistry | None = None) -> faust.App:
    """Build the Faust app for these settings; nothing connects until the worker starts."""
    if settings.kafka_security_protocol != "PLAINTEXT":
        raise ConfigurationError(
            "VASOWATCH_KAFKA_SECURITY_PROTOCOL: the worker supports PLAINTEXT only so far"
        )
    registry = registry if registry is not None else CollectorRegistry()
    metrics = build_metrics(registry)
    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{server}" for server in settings.kafka_bootstrap_servers.split(",")],
        store="memory://",
        autodiscover=False,
        web_enabled=True,
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_in_thread=False,
        datadir=str(settings.data_dir),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication_factor,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
    )
    raw: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw"}
    source = app.topic(*settings.input_topics, partitions=settings.topic_partitions, **raw)
    bed_state_topic = app.topic(settings.topic_bed_state, **raw)
    deadletter_topic = app.topic(settings.topic_deadletter, **raw)
    table = app.Table(
        BED_STATE_TABLE,
        partitions=settings.topic_partitions,
        default=None,
        key_type=bytes,
        value_type=bytes,
    )
    processor = BatchProcessor(
        kinds={settings.topic_arterial: "arterial", settings.topic_infusions: "infusion"},
        store=TableBedStore(table),
        bed_state_topic=bed_state_topic,
        deadletters=DeadLetterPolicy(deadletter_topic, metrics),
        metrics=metrics,
    )

    async def process_beds(stream: faust.StreamT[bytes]) -> None:
        # take_events lives on the concrete Stream; StreamT does not declare it.
        concrete = cast(faust.Stream[bytes], stream)
        async for events in concrete.take_events(
            settings.batch_max_events, within=settings.batch_within_s
        ):
            await processor.process_batch(events)

    app.agent(source, name="process-beds")(process_beds)
    app.vasowatch_registry = registry  # type: ignore[attr-defined]
    return app
