"""The worker acknowledges an input message only once the bed state it produced is on
the broker: Faust commits what was acknowledged, and a commit that overtook the
changelog would let a crash or a rebalance recover a state older than the committed
offsets (the events between them lost). Real processor, engine, aligner and store;
the Faust table and topics are stand-ins whose deliveries the test completes
(``processor_harness``)."""

from __future__ import annotations

import asyncio

from tests.stream.processor_harness import harness, message, minute_ago_ms


def test_messages_are_acknowledged_only_after_their_state_is_on_the_broker() -> None:
    async def scenario() -> None:
        h = harness()
        start = minute_ago_ms()
        batch = asyncio.create_task(
            h.processor.add_batch([message(i, start + i * 1000) for i in range(3)])
        )
        await asyncio.sleep(0.1)  # the batch runs until it waits for the delivery
        assert len(h.table.deliveries) == 1  # one bed: one state written for the batch...
        assert h.acknowledged == []  # ...but not acknowledged while the broker lacks it
        h.table.deliveries[0].set_result(None)
        await asyncio.wait_for(batch, 5)
        assert h.acknowledged == [0, 1, 2]

    asyncio.run(scenario())
