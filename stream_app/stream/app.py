"""The Faust application: topics, the bed-state table, the batch intake and the timers.

The consumer hands each fetch of the input topics to ``BatchProcessor`` (see
``intake``), which acknowledges each message once its effects are on the broker.
Timers release messages held for event-time alignment and tick the clock of every
owned bed so silent beds still raise their alerts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, cast

import faust
from faust.types import TP, ConsumerT
from prometheus_client import CollectorRegistry

from stream_app.engine.engine import Engine
from stream_app.engine.pack import RulePack
from stream_app.metrics import build_metrics
from stream_app.settings import Settings
from stream_app.stream.acks import acknowledge
from stream_app.stream.aligner import Aligner
from stream_app.stream.beds import BedStore
from stream_app.stream.blindness import BlindnessWatch
from stream_app.stream.connection import faust_credentials
from stream_app.stream.deadletter import DeadLetterPolicy
from stream_app.stream.diagnostics import consumer_state
from stream_app.stream.emitter import AlertEmitter
from stream_app.stream.hold_limits import HoldLimits
from stream_app.stream.input_message import InputMessage
from stream_app.stream.intake import BatchIntake, BatchIntakeConsumer
from stream_app.stream.positions import BrokerPositions
from stream_app.stream.processor import BatchProcessor
from stream_app.stream.state_writes import WritePacing
from stream_app.stream.web import install_web

log = logging.getLogger("vasowatch.worker")

BED_STATE_TABLE = "bed-state"
# Longest a clean stop waits for deferred bed states to reach the broker.
STOP_WRITE_TIMEOUT_S = 5.0


class ProducerTopic:
    """A topic the worker writes through the app's producer directly, as it does bed
    states: Faust's ``Topic.send`` adds a future message, sensors and a callback per
    record (55 us against 15 us per dead letter, measured against the local broker,
    and a realistic feed dead-letters about 1% of its messages). Records are
    partitioned by key as Faust's send does it (aiokafka's default partitioner)."""

    def __init__(self, app: faust.App, name: str) -> None:
        self._app = app
        self.name = name

    async def send(
        self, *, key: bytes, value: bytes, headers: list[tuple[str, bytes]] | None = None
    ) -> Awaitable[Any]:
        return await self._app.producer.send(self.name, key, value, None, None, headers)


class BatchIntakeApp(faust.App):
    """A Faust app whose consumer hands the intake topics to the processor in batches."""

    batch_intake: BatchIntake | None = None

    async def on_start(self) -> None:
        await super().on_start()
        if self.batch_intake is not None:
            # Subscribed (with acknowledgements) as an agent's topic would be; added on
            # the running loop, before the conductor's first subscription.
            self.topics.add(self.batch_intake.source)

    async def on_stop(self) -> None:
        intake = self.batch_intake
        if intake is not None and intake.before_stop is not None:
            # Bed states deferred during a backlog are written (and their messages
            # acknowledged for the consumer's last commit) while the producer still
            # runs; bounded, so a lost broker cannot hold up the stop.
            try:
                await asyncio.wait_for(intake.before_stop(), STOP_WRITE_TIMEOUT_S)
            except TimeoutError:
                self.log.warning("bed states not written on stop: the broker did not answer")
        await super().on_stop()

    def _new_consumer(self) -> ConsumerT:
        intake = self.batch_intake
        if intake is None:
            return super()._new_consumer()
        consumer = BatchIntakeConsumer(
            self.transport,
            callback=self.topics.on_message,
            on_partitions_revoked=self._on_partitions_revoked,
            on_partitions_assigned=self._on_partitions_assigned,
            beacon=self.beacon,
            loop=self.transport.loop,
        )
        consumer.intake = intake
        return cast(ConsumerT, consumer)


def create_app(
    settings: Settings, pack: RulePack, registry: CollectorRegistry | None = None
) -> faust.App:
    """Build the Faust app for these settings; nothing connects until the worker starts."""
    registry = registry if registry is not None else CollectorRegistry()
    metrics = build_metrics(registry)
    metrics.rulepack.info({"version": pack.version, "label": pack.settings.version_label})
    app = BatchIntakeApp(
        settings.app_id,
        broker=[f"kafka://{server}" for server in settings.kafka_bootstrap_servers.split(",")],
        broker_credentials=faust_credentials(settings),
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
        # One fetch is one batch for the processor (stream/intake.py).
        broker_max_poll_records=settings.batch_max_events,
        producer_acks=-1,
        producer_max_batch_size=settings.producer_batch_bytes,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.session_timeout_s / 10,
        broker_rebalance_timeout=settings.session_timeout_s,
        # Messages held for event-time alignment stay unacknowledged on purpose; a
        # rebalance must not wait for them (their next owner reads them again).
        stream_wait_empty=False,
    )
    raw: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw"}
    kinds = settings.input_kinds
    source = app.topic(*kinds, partitions=settings.topic_partitions, **raw)
    limits = HoldLimits.for_partitions(
        len(kinds) * settings.topic_partitions, settings.batch_max_events
    )
    aligner: Aligner[InputMessage] = Aligner(
        tuple(kinds), idle_ms=int(settings.align_idle_s * 1000), max_held=limits.max_held
    )
    intake = BatchIntake(source, limits, fetch_max_wait_ms=settings.fetch_max_wait_ms)
    app.batch_intake = intake
    alerts_topic = ProducerTopic(app, settings.topic_alerts)
    deadletter_topic = ProducerTopic(app, settings.topic_deadletter)
    table = app.Table(
        BED_STATE_TABLE,
        partitions=settings.topic_partitions,
        default=None,
        key_type=bytes,
        value_type=bytes,
    )

    async def send_state(partition: int, key: bytes, value: bytes) -> Awaitable[Any]:
        # Straight to the producer: Faust's send_soon adds a future message, a buffer
        # pass and a callback per record that only a RocksDB store needs (about a
        # third of a state write's cost; at 10,000 beds nearly every event writes one).
        topic = table.changelog_topic.get_topic_name()
        return await app.producer.send(topic, key, value, partition, None, None)

    positions = BrokerPositions(app)
    processor = BatchProcessor(
        kinds=kinds,
        engine=Engine(pack),
        beds=BedStore(table, send_state),
        emitter=AlertEmitter(alerts_topic, pack, metrics),
        deadletters=DeadLetterPolicy(deadletter_topic, metrics),
        metrics=metrics,
        aligner=aligner,
        caught_up=positions.caught_up,
        lag=positions.lag,
        ack=acknowledge(app),
        max_message_bytes=settings.max_message_bytes,
        max_beds=settings.max_beds,
        state_writes=WritePacing(
            settings.state_write_interval_s,
            settings.state_write_budget,
            settings.state_write_max_interval_s,
        ),
        blindness=BlindnessWatch(
            settings.app_id,
            int(settings.partition_silence_s * 1000),
            pack.version,
            on_silent=lambda partition: log.warning(
                "consumer state as input partition %d went silent\n%s",
                partition,
                consumer_state(app),
            ),
        ),
    )

    intake.handler = processor.add_batch
    intake.before_stop = processor.write_pending
    intake.held_on = aligner.held_on
    intake.held = lambda: aligner.held
    install_web(app, registry)
    _wire_clock_and_rebalance(app, processor, settings)
    app.vasowatch_registry = registry  # type: ignore[attr-defined]
    app.vasowatch_processor = processor  # type: ignore[attr-defined]
    return app


# How often messages held for alignment are looked at again between fetches. A held
# message waits for a fetch of its sibling topics answered after it arrived, which the
# broker sends within ``fetch_max_wait_ms`` (100 ms); at 0.25 s, the last messages of a
# drained backlog and a quiet feed's samples waited up to another 0.25 s for this look.
RELEASE_HELD_INTERVAL_S = 0.05


def _wire_clock_and_rebalance(
    app: faust.App, processor: BatchProcessor, settings: Settings
) -> None:
    """Timers for held messages and clock ticks; hooks for partition ownership."""
    kinds = settings.input_kinds

    def owned_partitions() -> set[int]:
        return {tp.partition for tp in app.consumer.assignment() if tp.topic in kinds}

    async def release_held() -> None:
        # A loop, not app.timer: mode warns of an overlapping timer whenever one run
        # outlasts the interval, as releasing a large held batch does in any backlog.
        while not app.should_stop:
            await app.sleep(RELEASE_HELD_INTERVAL_S)
            if not app.should_stop:
                await processor.flush()

    async def tick_beds() -> None:
        await processor.tick(owned_partitions())

    def on_assigned(_sender: Any, /, *args: Any, signal: Any, **_: Any) -> None:
        assigned: set[TP] = args[0]
        processor.assigned({tp.partition for tp in assigned if tp.topic in kinds})

    async def on_revoked(_sender: Any, /, *args: Any, signal: Any, **_: Any) -> None:
        revoked: set[TP] = args[0]
        await processor.revoked({tp.partition for tp in revoked if tp.topic in kinds})

    app.task(release_held)
    app.timer(interval=settings.tick_interval_s, name="tick-beds")(tick_beds)
    app.on_partitions_assigned.connect(on_assigned)
    app.on_partitions_revoked.connect(on_revoked)
    # Signals may hold weak references: keep the handlers alive with the app.
    app.vasowatch_handlers = (on_assigned, on_revoked)  # type: ignore[attr-defined]
