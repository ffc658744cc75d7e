"""Creating the project's topics with an explicit partition count, before the worker runs.

Input topics are co-partitioned by bed id: every one must have the same number of
partitions, or a bed's arterial and pump events would land on different workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError

from stream_app.exceptions import BrokerUnavailableError, ConfigurationError
from stream_app.settings import Settings
from stream_app.stream.connection import client_options


async def ensure_topics(settings: Settings) -> list[str]:
    """Create missing topics; refuse to go on when an existing one is partitioned differently.

    Returns the names of the topics this call created.
    """
    admin = AIOKafkaAdminClient(**client_options(settings), request_timeout_ms=15000)
    try:
        with _client_errors() as seen:
            await admin.start()
    except (KafkaConnectionError, OSError) as exc:
        # aiokafka says why (refused credentials, untrusted certificate) only in its log.
        cause = f" ({seen[-1]})" if seen else ""
        raise BrokerUnavailableError(
            f"cannot reach Kafka at {settings.kafka_bootstrap_servers}: {exc}{cause}"
        ) from exc
    try:
        existing = set(await admin.list_topics())
        wanted = [t for t in settings.all_topics if t not in existing]
        if wanted:
            await admin.create_topics(
                [
                    NewTopic(
                        name,
                        num_partitions=settings.topic_partitions,
                        replication_factor=settings.topic_replication_factor,
                    )
                    for name in wanted
                ]
            )
        present = [t for t in settings.all_topics if t in existing]
        if present:
            described = await admin.describe_topics(present)
            for topic in described:
                count = len(topic["partitions"])
                if count != settings.topic_partitions:
                    raise ConfigurationError(
                        f"topic {topic['topic']} has {count} partitions but "
                        f"VASOWATCH_TOPIC_PARTITIONS is {settings.topic_partitions}; "
                        "co-partitioning by bed id needs them equal"
                    )
        await _wait_for_leaders(admin, list(settings.all_topics))
        return wanted
    except KafkaError as exc:
        raise BrokerUnavailableError(f"creating topics failed: {exc}") from exc
    finally:
        await admin.close()


class _Collect(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage().split(": ", 1)[-1])


@contextlib.contextmanager
def _client_errors() -> Iterator[list[str]]:
    """The errors aiokafka logs while connecting (the reason a bootstrap failed)."""
    seen: list[str] = []
    handler = _Collect(seen)
    logger = logging.getLogger("aiokafka")
    logger.addHandler(handler)
    try:
        yield seen
    finally:
        logger.removeHandler(handler)


async def _wait_for_leaders(admin: AIOKafkaAdminClient, topics: list[str]) -> None:
    """Return once every partition has a leader: producing earlier only earns retries."""
    for _ in range(100):
        described = await admin.describe_topics(topics)
        if all(p["leader"] >= 0 for topic in described for p in topic["partitions"]) and all(
            topic["partitions"] for topic in described
        ):
            return
        await asyncio.sleep(0.1)
    raise BrokerUnavailableError(f"topics without a leader after 10 s: {', '.join(topics)}")
