"""Fetched input records as aiokafka's C records, without its per-record Python layer.

aiokafka hands out every fetched record as a ``ConsumerRecord``: per record, a step
of a generator, an iterator call, a helper call and an eleven-field dataclass, all
in Python, about 1.3 us on these machines against about 0.3 us for the C record the
batch already yields (docs/benchmarks.md, session 23). The intake reads four fields
of a record (``offset``, ``key``, ``value``, ``timestamp``), and the C record has
them. So for the input topics, ``fetched_records`` takes a partition's records
straight from their batches; every other topic (the table's changelog during
recovery) keeps aiokafka's own path, whose ``ConsumerRecord`` Faust builds its
messages from.

``fetched_records`` is aiokafka 0.14's ``Fetcher.fetched_records`` with one change,
which records a partition's ``FetchResult`` gives; ``take`` is ``FetchResult.getall``
with ``PartitionRecords._unpack_records`` for the input topics: the same assignment
and position check, CRC check, skipped control batches, records before the fetch
offset left out (a fetch answers from a batch's start) and ``max_records`` honoured
to the record. read_committed isolation and deserializers stay aiokafka's (the worker
reads uncommitted, raw bytes). pyproject.toml pins aiokafka to the minor release
these mirror; tests/stream/test_raw_records.py holds ``take`` to ``getall``.
"""

from __future__ import annotations

import asyncio
import sys
import time
import weakref
from collections.abc import Collection
from itertools import chain, islice
from typing import Any

from aiokafka.consumer.fetcher import READ_COMMITTED, FetchResult
from aiokafka.errors import CorruptRecordException

# A partition's batch that ``max_records`` cut short, taken up again by the next call
# (weak: aiokafka drops a partition's records on a seek or a revocation).
_cut_batches: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


async def fetched_records(
    fetcher: Any,
    partitions: Collection[Any] | None,
    timeout: float,  # noqa: ASYNC109 (aiokafka's signature)
    max_records: int | None,
    raw_topics: Collection[str],
) -> dict[Any, list[Any]]:
    """The records fetched for ``partitions`` (all fetched ones when empty or None),
    waiting up to ``timeout`` seconds for some; C records for ``raw_topics``."""
    subscriptions = fetcher._subscriptions
    while True:
        # Records fetched before a reassignment may belong to another member now.
        if subscriptions.reassignment_in_progress:
            await subscriptions.wait_for_assignment()
        started = time.monotonic()
        drained = _drain(fetcher, partitions, max_records, raw_topics)
        if drained or not timeout:
            return drained
        waiter = fetcher._create_fetch_waiter()
        done, pending = await asyncio.wait([waiter], timeout=timeout)
        if not done or fetcher._closed:
            for future in pending:
                future.cancel()
            return {}
        if waiter.done():
            waiter.result()  # raises an authorization error, say
        timeout = max(0.0, timeout - (time.monotonic() - started))


def _drain(
    fetcher: Any,
    partitions: Collection[Any] | None,
    max_records: int | None,
    raw_topics: Collection[str],
) -> dict[Any, list[Any]]:
    """What the fetcher holds now for ``partitions``, at most ``max_records`` in all."""
    results = fetcher._records
    drained: dict[Any, list[Any]] = {}
    for tp in list(results.keys()):
        if partitions and tp not in partitions:
            if not fetcher._subscriptions.is_assigned(tp):
                del results[tp]
            continue
        result = results[tp]
        if type(result) is not FetchResult:  # a fetch error
            if drained:
                return drained  # raised by the next call
            del results[tp]
            fetcher._notify(fetcher._wait_consume_future)
            result.check_raise()  # always raises: the partition's fetch error
        records = (
            take(result, max_records) if tp.topic in raw_topics else result.getall(max_records)
        )
        if not result.has_more():
            del results[tp]  # all of it handed out: fetch this partition again
            fetcher._notify(fetcher._wait_consume_future)
        if not records:
            continue
        drained[tp] = records
        if max_records is not None:
            max_records -= len(records)
            if max_records == 0:
                break
    return drained


def take(result: Any, max_records: int | None) -> list[Any]:
    """``result.getall(max_records)``, as the batches' own C records."""
    tp = result._topic_partition
    if not result.check_assignment(tp) or not result.has_more():
        return []
    partition = result._partition_records
    if (
        partition._isolation_level == READ_COMMITTED
        or partition._key_deserializer is not None
        or partition._value_deserializer is not None
    ):
        return list(result.getall(max_records))
    # aiokafka's own record generator, never started here, holds its partition in a
    # reference cycle: dropped, the partition and its fetched bytes (up to a megabyte)
    # go when their last reference does, not at the next full garbage collection.
    # (None rather than closed: aiokafka's iteration of it would then fail loudly.)
    partition._records_iterator = None
    budget = sys.maxsize if max_records is None else max_records
    batches = partition._records
    # A batch can be iterated once: a cut one goes on through the iterator it had.
    batch, records = _cut_batches.pop(partition, (None, None))
    taken: list[Any] = []
    while budget > 0:
        if batch is None:
            if not batches.has_next():
                break
            batch = batches.next_batch()
            if partition._check_crcs and not batch.validate_crc():
                raise CorruptRecordException(f"Invalid CRC - {tp}")
            if batch.is_control_batch:  # transaction markers: no record of anyone's
                partition.next_fetch_offset = batch.next_offset
                batch = None
                continue
            records = chain(batch)
        pulled = list(islice(records, budget))
        ended = len(pulled) < budget
        if pulled and pulled[0].offset < partition.next_fetch_offset:
            pulled = [r for r in pulled if r.offset >= partition.next_fetch_offset]
        if pulled:
            taken += pulled
            budget -= len(pulled)
            partition.next_fetch_offset = pulled[-1].offset + 1
        if ended:
            # The batch's own end, past records compaction removed from it.
            partition.next_fetch_offset = batch.next_offset
            batch = None
    if batch is not None:
        _cut_batches[partition] = (batch, records)
    result._update_position()
    if batch is None and not batches.has_next():
        result._partition_records = None
    return taken
