"""The input topics' records taken straight from their batches (``raw_records.take``)
must be exactly what aiokafka's own ``FetchResult.getall`` hands out, call by call:
the same records, the same positions, the same end, for any fetch offset, record
budget, compaction gap and transaction marker."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka.consumer.fetcher import FetchResult, PartitionRecords
from aiokafka.consumer.subscription_state import SubscriptionState
from aiokafka.errors import CorruptRecordException
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.record.memory_records import MemoryRecords
from aiokafka.record.util import calc_crc32c
from aiokafka.structs import TopicPartition
from hypothesis import given, settings
from hypothesis import strategies as st

from stream_app.stream.raw_records import take

TP = TopicPartition("icu.arterial", 3)
READ_UNCOMMITTED = 0
_ATTRIBUTES = slice(21, 23)  # a v2 batch's attributes; its CRC covers from here on
_LAST_OFFSET_DELTA = slice(23, 27)
_CONTROL = 0x20


def _batch(base: int, offsets: list[int], *, control: bool = False, compacted: int = 0) -> bytes:
    """One v2 record batch whose records sit at ``base`` + each of ``offsets``; its last
    ``compacted`` offsets' records removed, as compaction leaves a batch."""
    builder = DefaultRecordBatchBuilder(
        magic=2,
        compression_type=0,
        is_transactional=0,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        batch_size=1 << 20,
    )
    for delta in offsets:
        builder.append(
            delta,
            timestamp=1_790_000_000_000 + delta,
            key=b"bed-%d" % (base + delta),
            value=b'{"n":%d}' % (base + delta),
            headers=[],
        )
    raw = bytearray(builder.build())
    raw[0:8] = base.to_bytes(8, "big")
    if control:
        attributes = int.from_bytes(raw[_ATTRIBUTES], "big") | _CONTROL
        raw[_ATTRIBUTES] = attributes.to_bytes(2, "big")
    last_delta = int.from_bytes(raw[_LAST_OFFSET_DELTA], "big") + compacted
    raw[_LAST_OFFSET_DELTA] = last_delta.to_bytes(4, "big")
    raw[17:21] = calc_crc32c(bytes(raw[21:])).to_bytes(4, "big")
    return bytes(raw)


def _fetch(data: bytes, fetch_offset: int, *, check_crcs: bool = True) -> FetchResult:
    """A partition's fetched records as aiokafka keeps them (call inside a running loop:
    its subscription state makes futures)."""
    subscriptions = SubscriptionState()
    subscriptions.assign_from_user({TP})
    subscriptions.seek(TP, fetch_offset)
    records = PartitionRecords(
        TP, MemoryRecords(data), [], fetch_offset, None, None, check_crcs, READ_UNCOMMITTED
    )
    return FetchResult(
        TP,
        assignment=subscriptions.subscription.assignment,
        partition_records=records,
        backoff=0,
    )


def _in_loop(check: Callable[[], None]) -> None:
    async def run() -> None:
        check()

    asyncio.run(run())


def _fields(records: list[Any]) -> list[tuple[Any, ...]]:
    return [(r.offset, r.key, r.value, r.timestamp) for r in records]


def _position(result: FetchResult) -> int:
    return int(result._assignment.state_value(TP).position)


@st.composite
def _fetches(draw: st.DrawFn) -> tuple[bytes, int, list[int | None]]:
    """Batches with gaps (compaction) and now and then a transaction marker, a fetch
    offset anywhere in the first batch, and the record budgets of successive calls."""
    data, base, first_offsets = b"", draw(st.integers(0, 10_000)), None
    for _ in range(draw(st.integers(1, 5))):
        deltas = sorted(draw(st.sets(st.integers(0, 40), min_size=1, max_size=25)))
        control = first_offsets is not None and draw(st.booleans()) and draw(st.booleans())
        compacted = draw(st.integers(0, 3))
        data += _batch(base, [0] if control else deltas, control=control, compacted=compacted)
        first_offsets = first_offsets or [base + d for d in deltas]
        base += (0 if control else deltas[-1]) + compacted + 1 + draw(st.integers(0, 3))
    assert first_offsets is not None
    fetch_offset = draw(st.integers(first_offsets[0], first_offsets[-1]))
    budgets = draw(st.lists(st.one_of(st.none(), st.integers(1, 30)), min_size=1, max_size=12))
    return data, fetch_offset, budgets


@settings(max_examples=400, deadline=None)
@given(_fetches())
def test_take_hands_out_what_getall_does(fetch: tuple[bytes, int, list[int | None]]) -> None:
    """Call by call: the same records with the same fields, the same consumed position
    and the same end of the partition's records."""
    data, fetch_offset, budgets = fetch

    def check() -> None:
        ours, theirs = _fetch(data, fetch_offset), _fetch(data, fetch_offset)
        for budget in [*budgets, None]:  # the last call drains whatever is left
            if not theirs.has_more():
                break  # (aiokafka drops a result once it is all handed out)
            taken, got = take(ours, budget), theirs.getall(budget)
            assert _fields(taken) == _fields(got)
            assert _position(ours) == _position(theirs)
            assert ours.has_more() == theirs.has_more()
            if budget is not None:
                assert len(taken) <= budget
        assert not ours.has_more()

    _in_loop(check)


def test_take_starts_at_the_fetch_offset_and_keeps_the_budget_across_calls() -> None:
    """A fetch answers from its batch's start; records before the fetch offset are not
    handed out, and a budget that ends inside a batch resumes there on the next call."""

    def check() -> None:
        result = _fetch(_batch(100, list(range(10))) + _batch(110, list(range(5))), 104)
        assert [r.offset for r in take(result, 3)] == [104, 105, 106]
        assert _position(result) == 107
        assert [r.offset for r in take(result, 5)] == [107, 108, 109, 110, 111]
        assert [r.offset for r in take(result, None)] == [112, 113, 114]
        assert _position(result) == 115
        assert not result.has_more()

    _in_loop(check)


def test_a_corrupt_batch_is_refused_as_aiokafka_refuses_it() -> None:
    """A batch whose CRC does not match its bytes raises, and is not handed out."""
    raw = bytearray(_batch(0, [0, 1, 2]))
    raw[-2] ^= 0x01  # inside the last value: still parses

    def check() -> None:
        with pytest.raises(CorruptRecordException):
            take(_fetch(bytes(raw), 0), None)
        unchecked = take(_fetch(bytes(raw), 0, check_crcs=False), None)
        assert [r.offset for r in unchecked] == [0, 1, 2]

    _in_loop(check)


def test_a_partition_moved_by_a_seek_hands_out_nothing() -> None:
    """Records fetched before a seek belong to the old position: none is returned and
    the result is dropped, as by getall."""

    def check() -> None:
        result = _fetch(_batch(0, list(range(10))), 0)
        assert [r.offset for r in take(result, 2)] == [0, 1]
        result._assignment.state_value(TP).seek(7)
        assert take(result, None) == []
        assert not result.has_more()

    _in_loop(check)


def test_a_partition_taken_raw_is_freed_without_waiting_for_the_garbage_collector() -> None:
    """aiokafka's unstarted record generator kept each partition's fetched bytes in a
    reference cycle: alive until a full collection, which the worker's raised
    thresholds make rare. Taken, or dropped after a seek, it goes at once."""

    def check() -> None:
        for after_seek in (False, True):
            result = _fetch(_batch(0, list(range(10))), 0)
            partition = weakref.ref(result._partition_records)
            if after_seek:
                take(result, 2)
                result._assignment.state_value(TP).seek(7)
            take(result, None)
            del result
            assert partition() is None

    enabled = gc.isenabled()
    gc.disable()
    try:
        _in_loop(check)
    finally:
        if enabled:
            gc.enable()
