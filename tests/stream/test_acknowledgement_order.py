"""The worker acknowledges an input message only once the bed state it produced is on
the broker: Faust commits what was acknowledged, and a commit that overtook the
changelog would let a crash or a rebalance recover a state older than the committed
offsets (the events between them lost). Real processor, engine, aligner and store;
the Faust table and topics are stand-ins whose deliveries the test completes
(``processor_harness``)."""

from __future__ import annotations

import asyncio

from stream_app.engine.state import BedState
from tests.stream.processor_harness import harness, junk, message, minute_ago_ms


def test_messages_are_acknowledged_only_after_their_state_is_on_the_broker() -> None:
    async def scenario() -> None:
        h = harness()
        start = minute_ago_ms()
        # Processing does not wait for the broker's answer...
        await h.processor.add_batch([message(i, start + i * 1000) for i in range(3)])
        await asyncio.sleep(0)  # (the write's own task hands the state to the producer)
        assert len(h.table.deliveries) == 1  # one bed: one state written for the batch...
        await h.processor.flush()
        assert h.acknowledged == []  # ...but not acknowledged while the broker lacks it
        h.table.deliveries[0].set_result(None)
        await h.processor.flush()  # the release timer looks again
        assert h.acknowledged == [0, 1, 2]

    asyncio.run(scenario())


def test_one_state_write_at_a_time_is_on_its_way() -> None:
    """The next write waits for the one before it: the broker's answers bound how far
    processing runs ahead of what is durable."""

    async def scenario() -> None:
        h = harness()
        start = minute_ago_ms()
        await h.processor.add_batch([message(0, start)])
        second = asyncio.create_task(h.processor.add_batch([message(1, start + 1000)]))
        await asyncio.sleep(0.1)
        assert not second.done()  # processed, waiting to write its state
        assert len(h.table.deliveries) == 1
        h.table.deliver_all()
        await asyncio.wait_for(second, 5)
        assert h.acknowledged == [0]  # the first write landed; the second is on its way
        assert len(h.table.deliveries) == 2
        h.table.deliver_all()
        await h.processor.flush()
        assert h.acknowledged == [0, 1]

    asyncio.run(scenario())


def test_processing_goes_on_while_dead_letters_are_on_their_way() -> None:
    """A batch does not wait for its dead letters' delivery; the bed state that holds
    the batch's offsets does (a crash after it would otherwise skip the dead letter),
    and so does the acknowledgement of a message that only had a dead letter."""

    async def scenario() -> None:
        h = harness(state_write_interval_s=60, hold_dead_letters=True)
        assert h.dead_letters is not None
        h.unread["messages"] = 500  # a backlog: states wait for the interval or the stop
        start = minute_ago_ms()
        await asyncio.wait_for(h.processor.add_batch([message(0, start), junk(1)]), 5)
        await asyncio.wait_for(h.processor.add_batch([junk(2), message(3, start + 1000)]), 5)
        assert len(h.dead_letters.deliveries) == 2  # sent; the batches did not wait
        writing = asyncio.create_task(h.processor.write_pending())
        await asyncio.sleep(0.05)
        assert h.table.sent == []  # the state waits for the dead letters before it
        h.dead_letters.deliver_all()
        await asyncio.sleep(0.05)
        assert h.table.sent == [b"b1"]
        assert h.acknowledged == []  # the state is not on the broker yet
        h.table.deliver_all()
        await asyncio.wait_for(writing, 5)
        # All at once (Faust sorts the offsets acknowledged between two commits).
        assert sorted(h.acknowledged) == [0, 1, 2, 3]

    asyncio.run(scenario())


def test_a_message_with_only_a_dead_letter_waits_for_its_delivery() -> None:
    """Nothing older held: acknowledged once its dead letter is on the broker, and a
    later one not before it (Faust would commit past the first)."""

    async def scenario() -> None:
        h = harness(hold_dead_letters=True)
        assert h.dead_letters is not None
        await h.processor.add_batch([junk(0), junk(1)])
        await h.processor.flush()
        assert h.acknowledged == []
        h.dead_letters.deliveries[1].set_result(None)  # the second's first
        await h.processor.flush()
        assert h.acknowledged == []
        h.dead_letters.deliveries[0].set_result(None)
        await h.processor.flush()
        assert h.acknowledged == [0, 1]

    asyncio.run(scenario())


def test_a_write_due_before_the_dead_letters_land_is_sealed_as_it_was() -> None:
    """Caught up, each batch's states are written at once; with a dead letter still on
    its way, the write is encoded then and sent once it lands, holding the offsets of
    that moment, while the next batch is processed (and waits to write its own)."""

    async def scenario() -> None:
        h = harness(hold_dead_letters=True)
        assert h.dead_letters is not None
        start = minute_ago_ms()
        await asyncio.wait_for(h.processor.add_batch([message(0, start), junk(1)]), 5)
        assert h.table.sent == []  # sealed: the dead letter is not on the broker yet
        second = asyncio.create_task(h.processor.add_batch([message(2, start + 1000)]))
        await asyncio.sleep(0.05)
        assert not second.done()  # processed; its write waits for the sealed one
        kept = h.beds.get(b"b1", 0)
        assert kept is not None
        assert kept.offsets == {"icu.arterial:0": 2}
        h.dead_letters.deliver_all()
        await asyncio.sleep(0.05)
        assert h.table.sent == [b"b1"]
        assert BedState.from_bytes(h.table.values[0]).offsets == {"icu.arterial:0": 0}
        assert h.acknowledged == []
        h.table.deliver_all()
        await asyncio.wait_for(second, 5)
        assert sorted(h.acknowledged) == [0, 1]
        assert BedState.from_bytes(h.table.values[-1]).offsets == {"icu.arterial:0": 2}
        h.table.deliver_all()
        await h.processor.flush()
        assert sorted(h.acknowledged) == [0, 1, 2]

    asyncio.run(scenario())
