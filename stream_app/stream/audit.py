"""Which rule pack decided before this worker started, read from icu.alerts itself.

Every alert carries ``rulepack_version``; the newest alert on the topic tells which
pack the previous workers ran. No extra storage, and it survives any restart.
"""

from __future__ import annotations

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from stream_app.settings import Settings
from stream_app.stream.connection import client_options


async def previous_rulepack_version(settings: Settings) -> str | None:
    """The version on the newest alert (by ``emitted_at``), or None when there is none."""
    consumer = AIOKafkaConsumer(**client_options(settings), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        # ensure_topics has checked the partition count; an aiokafka consumer that is
        # never assigned anything fails on stop, so assign before anything else.
        partitions = range(settings.topic_partitions)
        assigned = [TopicPartition(settings.topic_alerts, p) for p in partitions]
        consumer.assign(assigned)
        ends = await consumer.end_offsets(assigned)
        wanted = {tp for tp, end in ends.items() if end > 0}
        for tp in wanted:
            consumer.seek(tp, ends[tp] - 1)
        newest: tuple[str, str] | None = None
        while wanted:
            batch = await consumer.getmany(*wanted, timeout_ms=5000)
            if not batch:
                break
            for tp, records in batch.items():
                wanted.discard(tp)
                for record in records:
                    newest = max(newest or ("", ""), _stamp(record.value) or ("", ""))
        return newest[1] if newest and newest[1] else None
    finally:
        await consumer.stop()


def _stamp(value: bytes | None) -> tuple[str, str] | None:
    try:
        alert = orjson.loads(value or b"")
        return str(alert["emitted_at"]), str(alert["rulepack_version"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
