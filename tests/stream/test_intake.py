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
    app: Any = create_app(settings, load_rule_pack(PROJECT_ROOT / "rules"))
    delivered: list[list[int]] = []

    async def handler(messages: Any) -> None:
        delivered.append([m.offset for m in messages])

    app.batch_intake.handler = handler
    consumer = app.consumer
    assert isinstance(consumer, BatchIntakeConsumer)
    return app, consumer, delivered


def _messages(app: Any, *offsets: int, generation: int | None = None) -> list[Any]:
    """Faust's own messages, standing in for input messages: ``_deliver`` reads only
    their generation."""
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
    held = {ahead: app.batch_intake.limits.per_partition, other: 3}
    app.batch_intake.held_on = lambda topic, partition: held.get(TP(topic, partition), 0)
    consumer.assignment = lambda: {ahead, other, changelog}  # type: ignore[method-assign]
    consumer._set_active_tps({ahead, other, changelog})
    consumer._hold_back()
    assert consumer._get_active_partitions() == {other, changelog}
    held[ahead] = 0  # the aligner let them go
    consumer._hold_back()
    assert consumer._get_active_partitions() == {ahead, other, changelog}


def test_a_held_back_partition_paused_by_a_rebalance_stays_paused_until_faust_resumes_it(
    tmp_path: Path,
) -> None:
    """Resuming it when its held messages go (the aligner drops them on revocation)
    would fetch input while the beds' state is still being recovered, ahead of the
    sibling topics Faust keeps paused: their events would then arrive late."""
    from faust.types import TP

    app, consumer, _ = _consumer(tmp_path)
    ahead, other = TP("icu.arterial", 0), TP("icu.infusions", 0)
    held = {ahead: app.batch_intake.limits.per_partition}
    app.batch_intake.held_on = lambda topic, partition: held.get(TP(topic, partition), 0)
    consumer.assignment = lambda: {ahead, other}  # type: ignore[method-assign]
    consumer._set_active_tps({ahead, other})
    consumer._hold_back()
    assert consumer._get_active_partitions() == {other}
    consumer.pause_partitions({ahead, other})  # a rebalance: Faust pauses the assignment
    held.clear()  # the aligner forgets the revoked partition's messages
    consumer._hold_back()
    assert consumer._get_active_partitions() == set()
    consumer.resume_partitions({ahead, other})  # recovery over
    consumer._hold_back()
    assert consumer._get_active_partitions() == {ahead, other}


def test_a_partition_revoked_while_held_back_is_forgotten(tmp_path: Path) -> None:
    from faust.types import TP

    app, consumer, _ = _consumer(tmp_path)
    ahead = TP("icu.arterial", 0)
    app.batch_intake.held_on = lambda topic, partition: app.batch_intake.limits.per_partition
    consumer.assignment = lambda: {ahead}  # type: ignore[method-assign]
    consumer._set_active_tps({ahead})
    consumer._hold_back()
    consumer.assignment = set  # type: ignore[method-assign]
    consumer._hold_back()
    assert ahead not in consumer._buffered_partitions


class _FakeThread:
    """Stands in for Faust's consumer thread: records what a fetch and a seek are given."""

    def __init__(self) -> None:
        self.fetch_started = asyncio.Event()
        self.release = asyncio.Event()
        self.fetched_from: list[set[Any]] = []
        self.committed: dict[Any, int | None] = {}
        self.sought: dict[Any, int] = {}

        self.max_records: list[int] = []
        self.timeouts: list[float] = []

    def _ensure_consumer(self) -> None:
        return None

    async def call_thread(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        return await method(*args, **kwargs)

    async def _fetch_records(
        self,
        _consumer: None,
        active: set[Any],
        timeout: float,  # noqa: ASYNC109 (the keyword Faust passes)
        max_records: int,
    ) -> dict[Any, list[Any]]:
        self.fetch_started.set()
        await self.release.wait()  # the thread reads the set later than it was handed over
        self.fetched_from.append(set(active))
        self.max_records.append(max_records)
        self.timeouts.append(timeout)
        return {}

    async def seek_to_committed(self) -> dict[Any, int | None]:
        return dict(self.committed)

    async def seek_wait(self, partitions: dict[Any, int]) -> None:
        self.sought.update(partitions)


def test_a_fetch_is_not_widened_by_partitions_paused_while_it_runs(tmp_path: Path) -> None:
    """An active set emptied mid-fetch meant "every partition" to aiokafka: paused input
    partitions' records came back, were discarded by Faust, and were never read again."""
    from faust.types import TP

    async def scenario() -> None:
        _, consumer, _ = _consumer(tmp_path)
        thread = consumer._thread = _FakeThread()  # type: ignore[assignment]
        changelog = TP("changelog", 0)
        consumer._set_active_tps({changelog})
        fetch = asyncio.create_task(consumer._getmany(consumer._get_active_partitions(), 1.0))
        await thread.fetch_started.wait()
        consumer.pause_partitions({changelog})  # recovery done: Faust pauses it mid-fetch
        thread.release.set()
        await fetch
        assert thread.fetched_from == [{changelog}]
        assert await consumer._getmany(consumer._get_active_partitions(), 1.0) == {}
        assert thread.fetched_from == [{changelog}]  # nothing active: no fetch at all

    asyncio.run(scenario())


def _holding_back(
    tmp_path: Path, ahead: Any, assigned: set[Any]
) -> tuple[Any, BatchIntakeConsumer, _FakeThread, dict[Any, int]]:
    """A consumer over ``assigned`` with ``ahead`` held back (its aligner share held);
    clearing the returned ``held`` lets those messages go."""
    from faust.types import TP

    app, consumer, _ = _consumer(tmp_path)
    thread = consumer._thread = _FakeThread()  # type: ignore[assignment]
    held = {ahead: app.batch_intake.limits.per_partition}
    app.batch_intake.held_on = lambda topic, partition: held.get(TP(topic, partition), 0)
    consumer.assignment = lambda: assigned  # type: ignore[method-assign]
    consumer._set_active_tps(assigned)
    consumer._hold_back()
    return app, consumer, thread, held


def test_a_fetch_waits_no_longer_than_the_broker_while_a_partition_is_held_back(
    tmp_path: Path,
) -> None:
    """A held-back partition is resumed only between fetches, and a fetch of caught-up
    partitions returns when its timeout ends: at Faust's 1 s, the last messages of a
    drained backlog waited that long after the aligner had let them go."""
    from faust.types import TP

    async def scenario() -> None:
        ahead, sibling = TP("icu.arterial", 0), TP("icu.infusions", 0)
        app, consumer, thread, held = _holding_back(tmp_path, ahead, {ahead, sibling})
        thread.release.set()
        await consumer._drain_fetch()
        held.clear()  # the aligner let them go while the fetch waited
        await consumer._drain_fetch()  # resumed once this fetch is over
        await consumer._drain_fetch()
        assert thread.fetched_from == [{sibling}, {sibling}, {ahead, sibling}]
        broker_wait_s = app.batch_intake.fetch_max_wait_ms / 1000
        assert thread.timeouts == [broker_wait_s, broker_wait_s, 1.0]

    asyncio.run(scenario())


def test_with_every_input_partition_held_back_the_intake_looks_again_soon(
    tmp_path: Path,
) -> None:
    """Faust's loop sleeps 1 s when no partition is active."""
    from faust.types import TP

    async def scenario() -> None:
        ahead = TP("icu.arterial", 0)
        app, consumer, thread, held = _holding_back(tmp_path, ahead, {ahead})
        slept: list[float] = []

        async def sleep(seconds: float, *args: Any, **kwargs: Any) -> None:
            slept.append(seconds)
            held.clear()  # the aligner let them go meanwhile

        consumer.sleep = sleep  # type: ignore[method-assign,assignment]
        await consumer._drain_fetch()
        assert slept == [app.batch_intake.fetch_max_wait_ms / 1000]
        assert thread.fetched_from == []
        assert consumer._get_active_partitions() == {ahead}

    asyncio.run(scenario())


def test_seeking_to_committed_sends_uncommitted_input_partitions_to_their_start(
    tmp_path: Path,
) -> None:
    from aiokafka import TopicPartition

    async def scenario() -> None:
        app, consumer, _ = _consumer(tmp_path)
        thread = consumer._thread = _FakeThread()  # type: ignore[assignment]
        arterial = sorted(app.batch_intake.topics)[0]
        never, zero, some = (TopicPartition(arterial, p) for p in range(3))
        changelog = TopicPartition("vasowatch-bed-state-changelog", 0)
        thread.committed = {never: None, zero: 0, some: 42, changelog: None}
        consumer.assignment = lambda: set(thread.committed)  # type: ignore[method-assign]
        assert await consumer.seek_to_committed() == thread.committed
        # Changelogs are never committed; Faust seeks them itself for recovery.
        assert thread.sought == {never: 0, zero: 0}

    asyncio.run(scenario())


def test_a_partition_revoked_during_the_seek_is_not_sought(tmp_path: Path) -> None:
    from aiokafka import TopicPartition
    from aiokafka.errors import IllegalStateError

    async def scenario() -> None:
        app, consumer, _ = _consumer(tmp_path)
        thread = consumer._thread = _FakeThread()  # type: ignore[assignment]
        arterial = sorted(app.batch_intake.topics)[0]
        kept, revoked = TopicPartition(arterial, 0), TopicPartition(arterial, 1)
        thread.committed = {kept: None, revoked: None}
        consumer.assignment = lambda: {kept}  # type: ignore[method-assign]
        await consumer.seek_to_committed()
        assert thread.sought == {kept: 0}

        async def revoked_meanwhile(partitions: dict[Any, int]) -> None:
            raise IllegalStateError("not assigned")

        thread.seek_wait = revoked_meanwhile  # type: ignore[method-assign]
        assert await consumer.seek_to_committed() == thread.committed  # no crash

    asyncio.run(scenario())


def _records(topic: str, partition: int, *offsets: int) -> list[Any]:
    from aiokafka.structs import ConsumerRecord

    return [
        ConsumerRecord(topic, partition, o, 1_000, 0, b"b1", b"{}", None, 2, 2, ()) for o in offsets
    ]


def test_a_fetch_goes_to_the_processor_whole_in_offset_order(tmp_path: Path) -> None:
    """Faust's rules kept while bypassing its getmany: records below the read offset
    (fetched before a seek back) and of partitions no longer active are left out;
    other topics' records go to Faust's callback one by one."""
    from faust.types import TP

    async def scenario() -> None:
        app, consumer, delivered = _consumer(tmp_path)
        app.flow_control.resume()
        arterial, infusions = sorted(app.batch_intake.topics)[:2]
        a0, a1, i0, changelog = TP(arterial, 0), TP(arterial, 1), TP(infusions, 0), TP("cl", 0)
        fetched = {
            a0: _records(arterial, 0, 3, 4, 5, 6),
            a1: _records(arterial, 1, 0, 1),
            i0: _records(infusions, 0, 7),
            changelog: _records("cl", 0, 11, 12),
        }

        async def wait_next_records(_timeout: float) -> Any:
            return fetched, {a0, i0, changelog}  # a1 paused since the fetch began

        called_back: list[int] = []

        async def callback(message: Any) -> None:
            called_back.append(message.offset)

        consumer._wait_next_records = wait_next_records  # type: ignore[method-assign,assignment]
        consumer.callback = callback
        consumer.highwater = lambda tp: 20  # type: ignore[method-assign]
        consumer.assignment = lambda: set(fetched)  # type: ignore[method-assign]
        consumer._read_offset[a0] = 5  # sought back to 5 after records 3-4 were fetched
        await consumer._drain_fetch()
        assert delivered == [[5, 6, 7]]
        assert called_back == [11, 12]
        assert consumer._read_offset[a0] == 6
        assert consumer._read_offset[i0] == 7

    asyncio.run(scenario())


def test_a_fetch_returned_after_the_flow_stopped_is_sought_back(tmp_path: Path) -> None:
    from faust.types import TP

    async def scenario() -> None:
        app, consumer, delivered = _consumer(tmp_path)
        arterial = sorted(app.batch_intake.topics)[0]
        sought: list[bool] = []

        async def wait_next_records(_timeout: float) -> Any:
            consumer.stop_flow()  # a rebalance began while the fetch was out
            return {TP(arterial, 0): _records(arterial, 0, 1)}, {TP(arterial, 0)}

        async def perform_seek() -> None:
            sought.append(True)

        consumer._wait_next_records = wait_next_records  # type: ignore[method-assign,assignment]
        consumer.perform_seek = perform_seek  # type: ignore[method-assign]
        await consumer._drain_fetch()
        assert delivered == []
        assert sought == [True]

    asyncio.run(scenario())


def test_a_batch_is_acknowledged_exactly_as_faust_acknowledges_one_message_at_a_time(
    tmp_path: Path,
) -> None:
    """Same offsets recorded for the next commit, in the same order, same count: below
    the committed offset ignored, repeats once, topics without acknowledgements left.
    Faust's ``ack`` is given its own messages; the bulk path the intake's."""
    from aiokafka.structs import ConsumerRecord
    from faust.types import TP

    from stream_app.stream.acks import acknowledge
    from stream_app.stream.input_message import InputMessage

    def messages(ours: bool) -> list[Any]:
        made: list[Any] = []
        for topic, partition, offset in [
            ("icu.arterial", 0, 5),
            ("icu.arterial", 0, 3),  # below the committed offset
            ("icu.arterial", 0, 7),
            ("icu.arterial", 1, 0),
            ("icu.arterial", 0, 5),  # the same offset again (a re-read)
            ("no-acks", 0, 1),
            ("icu.arterial", 1, 2),
        ]:
            tp = TP(topic, partition)
            if ours:
                record = ConsumerRecord(topic, partition, offset, 0, 0, b"b", b"{}", None, 1, 2, ())
                made.append(InputMessage.of(tp, record, generation_id=1))
            else:
                made.append(Message(topic, partition, offset, 0.0, 0, {}, b"b", b"{}", None, tp=tp))
        return made

    results = []
    for bulk in (False, True):
        app, consumer, _ = _consumer(tmp_path / str(bulk))
        app.topics.acks_enabled_for = lambda topic: topic != "no-acks"
        consumer._committed_offset[TP("icu.arterial", 0)] = 4
        batch = messages(ours=bulk)
        if bulk:
            acknowledge(app)(batch)
        else:
            for message in batch:
                consumer.ack(message)
        results.append(
            (
                {tp: list(v) for tp, v in consumer._acked.items() if v},
                {tp: set(v) for tp, v in consumer._acked_index.items() if v},
                consumer._n_acked,
                [m.acked for m in batch],
            )
        )
    assert results[0] == results[1]
    assert results[1][0] == {TP("icu.arterial", 0): [5, 7], TP("icu.arterial", 1): [0, 2]}


def test_a_fetch_takes_no_more_than_the_room_left_for_alignment(tmp_path: Path) -> None:
    """One fetch could bring 10,000 records of one partition; with 12 partitions a
    backlog drain passed the aligner's limit, past which event-time order is given up."""
    from faust.types import TP

    from stream_app.stream.hold_limits import HoldLimits

    limits = HoldLimits.for_partitions(4 * 12, 10_000)
    assert limits.target < limits.max_held
    assert limits.fetch_budget(0) == 10_000
    assert limits.fetch_budget(limits.target - 3_000) == 3_000
    assert limits.fetch_budget(limits.target + 1) == limits.floor  # siblings still fetched
    assert limits.per_partition * 48 + limits.batch <= limits.target

    async def scenario() -> None:
        app, consumer, _ = _consumer(tmp_path)
        thread = consumer._thread = _FakeThread()  # type: ignore[assignment]
        thread.release.set()
        held = [0]
        app.batch_intake.held = lambda: held[0]
        changelog = TP("changelog", 0)
        consumer._set_active_tps({changelog})
        for held[0] in (0, app.batch_intake.limits.target - 500, 10**9):
            await consumer._getmany(consumer._get_active_partitions(), 1.0)
        floor = app.batch_intake.limits.floor
        assert thread.max_records == [app.batch_intake.limits.batch, 500, floor]

    asyncio.run(scenario())


def test_the_broker_holds_a_fetch_no_longer_than_the_setting(tmp_path: Path) -> None:
    """Faust builds its consumer with a fixed 1.5 s fetch wait; a message held for
    alignment waits for a fetch of its caught-up sibling topics, which answers only
    after that wait (a 100,000-event drain spent 2 of its 5.9 s so)."""
    from stream_app.stream.app import create_app

    async def scenario() -> None:
        settings = Settings(
            kafka_bootstrap_servers="127.0.0.1:1", data_dir=tmp_path, fetch_max_wait_ms=250
        )
        app: Any = create_app(settings, load_rule_pack(PROJECT_ROOT / "rules"))
        raw = app.consumer._thread._create_worker_consumer(app.transport)
        try:
            assert raw._fetch_max_wait_ms == 250
        finally:
            await raw.stop()

    asyncio.run(scenario())


def test_the_producer_batches_as_many_bed_states_as_the_setting_allows(tmp_path: Path) -> None:
    """aiokafka waits for the previous request's answer once a partition's batch is full;
    at Faust's 16 KB default that was every fourth bed state (290 us per state write)."""
    from stream_app.stream.app import create_app

    async def scenario() -> None:
        settings = Settings(
            kafka_bootstrap_servers="127.0.0.1:1", data_dir=tmp_path, producer_batch_bytes=300_000
        )
        app: Any = create_app(settings, load_rule_pack(PROJECT_ROOT / "rules"))
        raw = app.producer._new_producer()
        try:
            assert raw._message_accumulator._batch_size == 300_000
        finally:
            await raw.stop()

    asyncio.run(scenario())


def test_pending_bed_states_are_written_before_the_consumer_stops(tmp_path: Path) -> None:
    """On a clean stop the states deferred during a backlog are written first, so the
    consumer's last commit includes their messages (Faust's on_stop stops the consumer,
    which commits, before anything else)."""

    async def scenario() -> None:
        app, _, _ = _consumer(tmp_path)
        order: list[str] = []

        async def write_pending() -> None:
            order.append("bed states written")

        async def stop_consumer() -> None:
            order.append("consumer stopped")

        app.batch_intake.before_stop = write_pending
        app._stop_consumer = stop_consumer
        await app.on_stop()
        assert order == ["bed states written", "consumer stopped"]

    asyncio.run(scenario())
