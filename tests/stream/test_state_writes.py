"""While a backlog drains, a bed's state is written at most once per interval, and no
message is acknowledged before the state holding it is on the broker; caught up, every
batch is written at once. Real processor, engine, aligner and store (see
``processor_harness``)."""

from __future__ import annotations

import asyncio
from functools import partial

import orjson
import pytest

from stream_app.stream.state_writes import StateWrites, WritePacing
from tests.stream.processor_harness import harness, junk, message, minute_ago_ms


def test_a_backlog_defers_state_writes_and_acknowledgements() -> None:
    """Two batches behind a backlog: nothing written or acknowledged yet, the second
    batch continues the first one's (unwritten) state, and the final write holds all."""

    async def scenario() -> None:
        h = harness(state_write_interval_s=60)
        h.unread["messages"] = 500
        start = minute_ago_ms()
        await h.processor.add_batch([message(i, start + i * 1000) for i in range(3)])
        await h.processor.add_batch([message(i, start + i * 1000) for i in range(3, 6)])
        assert h.table.deliveries == []
        assert h.acknowledged == []
        kept = h.beds.get(b"b1", 0)
        assert kept is not None
        assert kept.offsets == {"icu.arterial:0": 5}  # one state across both batches
        writing = asyncio.create_task(h.processor.write_pending())
        await asyncio.sleep(0.05)
        assert h.table.sent == [b"b1"]  # one write for the bed, for both batches
        assert h.acknowledged == []  # ...and no acknowledgement before it is delivered
        h.table.deliver_all()
        await asyncio.wait_for(writing, 5)
        assert h.acknowledged == [0, 1, 2, 3, 4, 5]

    asyncio.run(scenario())


def test_caught_up_every_batch_is_written_at_once() -> None:
    """Nothing unread at the broker: live input is made durable batch by batch, however
    long the interval."""

    async def scenario() -> None:
        h = harness(state_write_interval_s=60)
        start = minute_ago_ms()
        for batch in range(2):
            offsets = range(batch * 3, batch * 3 + 3)
            await h.processor.add_batch([message(i, start + i * 1000) for i in offsets])
            await asyncio.sleep(0)  # (the write's own task hands the state to the producer)
            assert len(h.table.deliveries) == batch + 1
            h.table.deliver_all()
        await h.processor.flush()
        assert h.acknowledged == [0, 1, 2, 3, 4, 5]

    asyncio.run(scenario())


def test_the_interval_ends_the_deferral_on_the_timer() -> None:
    """A backlog that stops arriving mid-interval is written by the release timer once
    the interval is over, not left waiting for the next batch."""

    async def scenario() -> None:
        h = harness(state_write_interval_s=0.2)
        h.unread["messages"] = 500
        await h.processor.add_batch([message(0, minute_ago_ms())])
        await h.processor.flush()
        assert h.table.sent == []  # the interval is not over yet
        await asyncio.sleep(0.25)
        await h.processor.flush()
        await asyncio.sleep(0)  # (the write's own task hands the state to the producer)
        assert h.table.sent == [b"b1"]
        assert h.acknowledged == []  # sent, not yet on the broker
        h.table.deliver_all()
        await h.processor.flush()
        assert h.acknowledged == [0]

    asyncio.run(scenario())


def test_a_dead_lettered_message_waits_behind_deferred_ones() -> None:
    """Faust commits past a lone acknowledged offset: a junk message after deferred ones
    of its partition is acknowledged only once they are."""

    async def scenario() -> None:
        h = harness(state_write_interval_s=60)
        h.unread["messages"] = 500
        start = minute_ago_ms()
        await h.processor.add_batch([message(0, start), message(1, start + 1000)])
        await h.processor.add_batch([junk(2)])
        assert h.acknowledged == []  # the junk's dead letter is out, but 0-1 wait
        writing = asyncio.create_task(h.processor.write_pending())
        await asyncio.sleep(0.05)
        h.table.deliver_all()
        await asyncio.wait_for(writing, 5)
        assert h.acknowledged == [0, 1, 2]

    asyncio.run(scenario())


def test_revoked_partitions_have_their_states_written_but_not_acknowledged() -> None:
    """Their next owner recovers the newest states (and skips what they hold); their
    offsets are Faust's to forget, so acknowledging them would be wrong."""

    async def scenario() -> None:
        h = harness(state_write_interval_s=60)
        h.unread["messages"] = 500
        start = minute_ago_ms()
        await h.processor.add_batch(
            [message(0, start, "b1", partition=0), message(0, start, "b2", partition=1)]
        )
        revoking = asyncio.create_task(h.processor.revoked({1}))
        await asyncio.sleep(0.05)
        assert sorted(h.table.sent) == [b"b1", b"b2"]
        h.table.deliver_all()
        await asyncio.wait_for(revoking, 5)
        assert h.acknowledged == [0]  # partition 0's message only
        assert h.beds.get(b"b2", 1) is not None  # from the written table copy

    asyncio.run(scenario())


def test_state_writes_bookkeeping() -> None:
    """The interval restarts at each write; the lowest waiting offset is per
    topic-partition, and covers the write on its way; an evicted bed is not written."""

    async def scenario() -> None:
        now = [100.0]
        put: list[bytes] = []
        deliveries: list[asyncio.Future[None]] = []
        acked: list[int] = []
        counted: dict[str, int] = {}

        async def send(_partition: int, key: bytes, _blob: bytes) -> asyncio.Future[None]:
            put.append(key)
            deliveries.append(asyncio.get_running_loop().create_future())
            return deliveries[-1]

        writes = StateWrites(
            WritePacing(1.0),
            encode=lambda key, _state, _partition: key,
            send=send,
            ack=lambda messages: acked.extend(m.offset for m in messages),
            count=lambda topic, n: counted.__setitem__(topic, counted.get(topic, 0) + n),
            clock=lambda: now[0],
        )
        assert not writes.due(lambda: False)  # nothing waits
        first, second = junk(7), junk(9)
        writes.add({b"b1": (object(), 0), b"b2": (object(), 0)}, [first, second], {"t": 2})  # type: ignore[dict-item]
        assert writes.lowest("icu.arterial", 0) == 7
        assert writes.lowest("icu.arterial", 1) is None
        assert not writes.due(lambda: True)  # a backlog, interval not over
        assert writes.due(lambda: False)  # caught up
        now[0] += 1.0
        assert writes.due(lambda: True)  # the interval is over
        writes.forget_bed(b"b2")
        await writes.send()
        assert put == []  # encoded; handed to the producer by a task of its own...
        await asyncio.sleep(0)
        assert put == [b"b1"]
        writes.add({}, [junk(10)], {"t": 1})
        assert writes.lowest("icu.arterial", 0) == 7  # sent, not landed: still waiting
        assert not writes.due(lambda: True)  # the interval started again at the send
        await writes.land_if_delivered()
        assert acked == []
        deliveries[0].set_result(None)
        await writes.land_if_delivered()
        assert acked == [7, 9]
        assert counted == {"t": 2}
        assert writes.lowest("icu.arterial", 0) == 10

    asyncio.run(scenario())


def test_a_draining_write_that_took_long_spaces_out_the_next() -> None:
    """While draining, the time to the next write is what the last write's encoding took
    over the budget (within the interval and its ceiling; handing the states to the
    producer, 10 ms each here, does not count); caught up, every batch is written at
    once whatever the last write took."""

    approx = partial(pytest.approx, abs=0.0011)  # (the fake clock moves in 1 ms steps)

    async def scenario() -> None:
        now = [0.0]
        seconds_per_bed = [0.0]  # what encoding one bed's state takes, by the fake clock

        def encode(key: bytes, _state: object, _partition: int) -> bytes:
            now[0] += seconds_per_bed[0]
            return key

        async def send(_partition: int, _key: bytes, _blob: bytes) -> asyncio.Future[None]:
            now[0] += 0.01
            done = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done

        writes = StateWrites(
            WritePacing(1.0, budget=0.1, max_interval_s=5.0),
            encode=encode,
            send=send,
            ack=lambda _messages: None,
            count=lambda _topic, _n: None,
            clock=lambda: now[0],
        )

        async def write(beds: int) -> float:
            """Write ``beds`` states while draining; when the next write is due."""
            writes.add({b"%d" % i: (object(), 0) for i in range(beds)}, [], {})  # type: ignore[misc]
            await writes.send()
            await asyncio.sleep(0)  # (the write's own task hands the states over)
            began = now[0] - beds * (seconds_per_bed[0] + 0.01)  # (the interval's start)
            writes.add({b"0": (object(), 0)}, [], {})  # type: ignore[dict-item]
            assert writes.due(lambda: False)  # caught up: at once
            step = 0.001
            while not writes.due(lambda: True):
                now[0] += step
            return now[0] - began

        assert await write(2) == approx(1.0)  # 0.02 s of writing: the interval
        seconds_per_bed[0] = 0.02
        assert await write(10) == approx(2.0)  # 0.2 s of encoding over a budget of a tenth
        seconds_per_bed[0] = 0.1
        assert await write(10) == approx(5.0)  # 1 s would want 10 s: the ceiling
        seconds_per_bed[0] = 0.0
        assert await write(1) == approx(1.0)  # a quick write again: back to the interval

    asyncio.run(scenario())


def test_write_pacing_never_goes_below_the_interval() -> None:
    assert WritePacing(2.0, budget=0.5, max_interval_s=1.0).spacing(10.0) == 2.0
    assert WritePacing(0.0).spacing(3.0) == 0.0  # no budget set: every batch, as before
    assert WritePacing(1.0, budget=0.05, max_interval_s=5.0).spacing(0.1) == 2.0


def test_processing_goes_on_while_the_producer_holds_a_write() -> None:
    """Handing a write's states to the producer can wait for broker round trips (0.3-0.9
    s at 10,000 beds): later batches are processed meanwhile, and acknowledged only
    with a later write."""

    async def scenario() -> None:
        h = harness(state_write_interval_s=60)
        h.table.producer_room = asyncio.Event()
        start = minute_ago_ms()
        await h.processor.add_batch([message(0, start)])  # caught up: written at once
        h.unread["messages"] = 500  # then a backlog: the next batches wait for the interval
        for offset in (1, 2):
            await asyncio.wait_for(h.processor.add_batch([message(offset, start + offset)]), 1)
        kept = h.beds.get(b"b1", 0)
        assert kept is not None
        assert kept.offsets == {"icu.arterial:0": 2}
        assert h.table.sent == []  # still with the producer
        h.table.producer_room.set()
        await asyncio.sleep(0)
        assert h.table.sent == [b"b1"]
        h.table.deliver_all()
        await h.processor.flush()
        assert h.acknowledged == [0]  # only what the write held
        assert orjson.loads(h.table.values[0])[1]["offsets"] == {"icu.arterial:0": 0}

    asyncio.run(scenario())


def test_a_tick_waits_for_the_write_on_its_way() -> None:
    """A tick that evicts a bed lands the write on its way first: deleted after it, the
    bed is not brought back by a state that reaches the broker later."""

    async def scenario() -> None:
        h = harness()
        await h.processor.add_batch([message(0, minute_ago_ms())])
        await asyncio.sleep(0)
        assert h.table.sent == [b"b1"]  # on its way, not delivered
        state = h.beds.get(b"b1", 0)
        assert state is not None
        evict_after_ms = int(h.processor._engine.pack.settings.evict_after_h * 3_600_000)
        state.received_wall_ms -= evict_after_ms + 60_000  # silent for longer than that
        tick = asyncio.create_task(h.processor.tick({0}))
        await asyncio.sleep(0.05)
        assert not tick.done()
        assert h.table.deleted == []
        h.table.deliver_all()
        await asyncio.wait_for(tick, 5)
        assert h.table.deleted == [b"b1"]
        assert h.acknowledged == [0]

    asyncio.run(scenario())
