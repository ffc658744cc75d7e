"""The batch intake hands fetched input messages to the processor only when Faust would
deliver them to a stream: while the app's flow control is on, and only for the current
generation. (Faust also keeps the input partitions paused while table recovery runs.)

The real Faust app and consumer (built, not connected: nothing here needs a broker);
the messages are Faust's own ``Message``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from faust.types import Message

from stream_app.engine.registry import load_rule_pack
from stream_app.local_kafka import PROJECT_ROOT
from stream_app.settings import Settings
from stream_app.stream.intake import BatchIntakeConsumer


def _consumer(tmp_path: Path) -> tuple[Any, BatchIntakeConsumer, list[list[int]]]:
    from stream_app.stream.app import create_app

    settings = Settings(kafka_bootstrap_servers="127.0.0.1:1", data_dir=tmp_path)
    app = create_app(settings, load_rule_pack(PROJECT_ROOT / "rules"))
    delivered: list[list[int]] = []

    async def handler(messages: Any) -> None:
        delivered.append([m.offset for m in messages])

    app.batch_intake.handler = handler
    consumer = app.consumer
    assert isinstance(consumer, BatchIntakeConsumer)
    return app, consumer, delivered


def _messages(app: Any, *offsets: int, generation: int | None = None) -> list[Message]:
    gen = app.consumer_generation_id if generation is None else generation
    return [
        Message("icu.arterial", 0, offset, 0.0, 0, {}, b"b1", b"{}", None, generation_id=gen)
        for offset in offsets
    ]


def test_messages_wait_while_faust_holds_the_flow(tmp_path: Path) -> None:
    async def scenario() -> None:
        app, consumer, delivered = _consumer(tmp_path)
        app.flow_control.suspend()  # as Faust does when partitions are revoked
        delivery = asyncio.create_task(consumer._deliver(_messages(app, 1, 2)))
        await asyncio.sleep(0.2)
        assert delivered == []
        app.flow_control.resume()  # as Faust does once the new assignment is recovering
        await asyncio.wait_for(delivery, 5)
        assert delivered == [[1, 2]]

    asyncio.run(scenario())


def test_a_rebalance_during_the_wait_drops_the_batch(tmp_path: Path) -> None:
    async def scenario() -> None:
        app, consumer, delivered = _consumer(tmp_path)
        app.flow_control.suspend()
        delivery = asyncio.create_task(consumer._deliver(_messages(app, 1)))
        await asyncio.sleep(0.2)
        consumer.stop_flow()  # partitions revoked: the next owner reads them again
        await asyncio.wait_for(delivery, 5)
        app.flow_control.resume()
        assert delivered == []

    asyncio.run(scenario())


def test_messages_fetched_under_an_earlier_generation_are_dropped(tmp_path: Path) -> None:
    async def scenario() -> None:
        app, consumer, delivered = _consumer(tmp_path)
        app.flow_control.resume()
        app.consumer_generation_id = 7
        await consumer._deliver(_messages(app, 1, 2, generation=6) + _messages(app, 3))
        assert delivered == [[3]]

    asyncio.run(scenario())


def test_a_partition_with_many_held_messages_is_fetched_no_further_until_they_go(
    tmp_path: Path,
) -> None:
    """A fetch brings up to 1 MB per partition of one topic while a sibling topic is
    awaited; the aligner's limit would be passed (and order given up) without this."""
    from faust.types import TP

    app, consumer, _ = _consumer(tmp_path)
    ahead, other, changelog = TP("icu.arterial", 0), TP("icu.arterial", 1), TP("changelog", 0)
    held = {ahead: app.batch_intake.hold_limit, other: 3}
    app.batch_intake.held_on = lambda topic, partition: held.get(TP(topic, partition), 0)
    consumer.assignment = lambda: {ahead, other, changelog}  # type: ignore[method-assign]
    consumer._set_active_tps({ahead, other, changelog})
    consumer._hold_back()
    assert consumer._get_active_partitions() == {other, changelog}
    held[ahead] = 0  # the aligner let them go
    consumer._hold_back()
    assert consumer._get_active_partitions() == {ahead, other, changelog}
