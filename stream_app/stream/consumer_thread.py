"""The intake consumer's thread: where aiokafka fetches and hands out the records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import aiokafka
from aiokafka.errors import ConsumerStoppedError
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import TP

from stream_app.stream.raw_records import fetched_records

if TYPE_CHECKING:
    from stream_app.stream.intake import BatchIntake


class BatchIntakeConsumerThread(AIOKafkaConsumerThread):
    """Faust's consumer thread, with the intake's fetch wait instead of Faust's fixed 1.5 s,
    and the input topics' records as aiokafka's C records (``raw_records``)."""

    @property
    def _intake(self) -> BatchIntake:
        return cast("BatchIntake", cast(Any, self.consumer).intake)

    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # Read by aiokafka when the consumer starts (it builds its fetcher then).
        consumer._fetch_max_wait_ms = self._intake.fetch_max_wait_ms
        return consumer

    async def _fetch_records(
        self,
        consumer: aiokafka.AIOKafkaConsumer,
        active_partitions: set[TP],
        timeout: float | None = None,  # noqa: ASYNC109 (Faust's signature)
        max_records: int | None = None,
    ) -> Mapping[TP, list[Any]]:
        # Faust's own, with raw_records.fetched_records for the fetcher's.
        if not self.consumer.flow_active:
            return {}
        fetcher = consumer._fetcher
        if consumer._closed or fetcher._closed:
            raise ConsumerStoppedError()
        with fetcher._subscriptions.fetch_context():
            return await fetched_records(
                fetcher,
                active_partitions,
                timeout or 0.0,
                max_records,
                self._intake.topics,
            )
