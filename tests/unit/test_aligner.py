"""Event-time alignment across co-partitioned topics (pure logic, fake broker positions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stream_app.stream.aligner import Aligner


@dataclass(slots=True)
class Pending:
    """A held message as the aligner reads it (the worker holds its ``InputMessage``)."""

    topic: str
    partition: int
    offset: int
    ts: int
    payload: Any
    handle: Any = None
    received_ms: int = 0


TOPICS = ("arterial", "infusions")


def _item(topic: str, offset: int, ts: int, partition: int = 0) -> Pending:
    return Pending(topic, partition, offset, ts, payload=None)


def _never(*_: object) -> bool:
    return False


def _always(*_: object) -> bool:
    return True


def test_releases_in_event_time_order_across_topics() -> None:
    """With both topics queued, the lowest event time goes first."""
    aligner: Aligner[Pending] = Aligner(TOPICS, idle_ms=10_000)
    aligner.assign([0], 0)
    for item in [_item("arterial", 0, 10), _item("arterial", 1, 20), _item("infusions", 0, 15)]:
        aligner.add(item, 0)
    released = aligner.release(0, _never)
    # arterial@20 waits: infusions is empty and not known to be caught up.
    assert [(p.topic, p.ts) for p in released] == [("arterial", 10), ("infusions", 15)]
    assert [(p.topic, p.ts) for p in aligner.release(0, _always)] == [("arterial", 20)]


def test_a_topic_read_ahead_waits_for_the_other() -> None:
    """A pump change at minute 5 is not applied before samples of minutes 0-4 arrive."""
    aligner: Aligner[Pending] = Aligner(TOPICS, idle_ms=10_000)
    aligner.assign([0], 0)
    aligner.add(_item("infusions", 0, 300_000), 0)
    assert aligner.release(100, _never) == []
    for offset, ts in enumerate(range(0, 360_000, 60_000)):
        aligner.add(_item("arterial", offset, ts), 200)
    order = [p.ts for p in aligner.release(200, _never)]
    assert order == [0, 60_000, 120_000, 180_000, 240_000, 300_000]


def test_idle_topic_stops_blocking_after_the_idle_limit() -> None:
    """A partition that delivers nothing while its siblings do is waited for only so long."""
    aligner: Aligner[Pending] = Aligner(TOPICS, idle_ms=1_000)
    aligner.assign([0], 0)
    aligner.add(_item("arterial", 0, 10), 5_000)
    assert aligner.release(5_500, _never) == []
    assert len(aligner.release(6_001, _never)) == 1


def test_partitions_are_independent_and_revocation_drops_held() -> None:
    """Holding on partition 0 does not hold partition 1; revoked messages are handed back."""
    aligner: Aligner[Pending] = Aligner(TOPICS, idle_ms=10_000)
    aligner.assign([0, 1], 0)
    aligner.add(_item("arterial", 0, 10, partition=0), 0)
    aligner.add(_item("arterial", 0, 10, partition=1), 0)
    aligner.add(_item("infusions", 0, 5, partition=1), 0)
    released = aligner.release(0, _never)
    # partition 1's infusion is older than anything, so it goes; both arterial wait.
    assert [(p.partition, p.topic) for p in released] == [(1, "infusions")]
    assert aligner.held == 2
    assert len(aligner.revoke([0])) == 1
    assert aligner.held == 1


def test_caught_up_check_receives_the_candidates_arrival_time() -> None:
    """Freshness: the broker must have been heard from after the candidate arrived."""
    calls: list[tuple[object, ...]] = []

    def record(*args: object) -> bool:
        calls.append(args)
        return True

    aligner: Aligner[Pending] = Aligner(TOPICS, idle_ms=10_000)
    aligner.assign([0], 0)
    aligner.add(_item("arterial", 7, 10), 1234)
    aligner.release(1300, record)
    assert calls == [("infusions", 0, None, 1234)]


def test_messages_with_nothing_to_apply_are_acknowledged_after_older_held_ones() -> None:
    """Faust commits past a lone gap at the head of its acked offsets: never leave one."""
    from stream_app.stream.acks import OrderedAcks

    held = {("t", 0): 5}
    acked: list[str] = []

    class Held:
        def lowest_held(self, topic: str, partition: int) -> int | None:
            return held.get((topic, partition))

    acks = OrderedAcks(Held(), acked.extend)
    acks.wait("t", 0, 4, "older junk")
    acks.wait("t", 0, 6, "junk after a held message")
    acks.wait("t", 1, 9, "other partition")
    acks.release()
    assert acked == ["older junk", "other partition"]
    del held[("t", 0)]  # the held message was processed and acknowledged
    acks.release()
    assert acked[-1] == "junk after a held message"
    acks.wait("t", 2, 1, "given away")
    acks.drop({2})
    acks.release()
    assert "given away" not in acked


def test_idle_limit_does_not_apply_to_a_topic_with_known_unread_data() -> None:
    """A backlog fetched one topic at a time: the broker is known to hold arterial
    samples not yet received, so pump changes wait for them past the idle limit."""
    aligner: Aligner[Pending] = Aligner(TOPICS, idle_ms=1_000)
    aligner.assign([0], 0)
    aligner.add(_item("infusions", 0, 300_000), 100)
    backlog: dict[str, int | None] = {"arterial": 500}

    def unread(topic: str, partition: int, last: int | None) -> int | None:
        return backlog.get(topic, 0)

    assert aligner.release(60_000, _never, unread) == []  # a minute: still waiting
    backlog["arterial"] = None  # not known: the idle rule again
    assert len(aligner.release(60_000, _never, unread)) == 1
    aligner.add(_item("infusions", 1, 400_000), 60_000)
    backlog["arterial"] = 0  # known to hold nothing more: idle as before
    assert len(aligner.release(62_000, _never, unread)) == 1


def test_the_broker_is_asked_once_per_waiting_topic_not_once_per_message() -> None:
    """A fetch of thousands of samples received together: the empty sibling's position
    cannot change while they are released, and a later receipt needs a fresher poll."""
    aligner: Aligner[Pending] = Aligner(TOPICS, idle_ms=10_000)
    aligner.assign([0], 0)
    for offset in range(1000):
        aligner.add(_item("arterial", offset, offset * 1000), 50)
    aligner.add(_item("arterial", 1000, 1_000_000), 80)
    asked: list[int] = []

    def polled_at_60(topic: str, partition: int, last: int | None, fresh_after: int) -> bool:
        asked.append(fresh_after)
        return fresh_after <= 60

    released = aligner.release(100, polled_at_60)
    assert [p.offset for p in released] == list(range(1000))  # the one received at 80 waits
    assert asked == [50, 80]


class _OneAtATime(Aligner[Pending]):
    """The release rule stated plainly: the lowest event time among the queue heads
    goes while every empty sibling is caught up for it or idle; the broker is asked
    for every message. The real aligner must give exactly the same releases."""

    def release(self, now_ms: int, caught_up: Any, unread: Any = None) -> list[Pending]:
        released: list[Pending] = []
        for partition in sorted({p for _, p in self._queues}):
            while True:
                heads = [
                    (q[0].ts, t) for t in self.topics if (q := self._queues.get((t, partition)))
                ]
                if not heads:
                    break
                _, first = min(heads)
                candidate = self._queues[(first, partition)][0]
                if not all(
                    self._queues.get((t, partition))
                    or self._sibling_lets_go(t, partition, candidate, now_ms, caught_up, unread)
                    for t in self.topics
                ):
                    break
                released.append(self._queues[(first, partition)].popleft())
        return released

    def _sibling_lets_go(
        self,
        topic: str,
        partition: int,
        candidate: Pending,
        now_ms: int,
        caught_up: Any,
        unread: Any,
    ) -> bool:
        tp = (topic, partition)
        quiet_since = max(
            self._last_delivery.get(tp, now_ms), self._active_since.get(partition, now_ms)
        )
        idle = now_ms - quiet_since >= self.idle_ms
        if idle and unread is not None:
            idle = not unread(topic, partition, self._last_offset.get(tp))
        return idle or caught_up(topic, partition, self._last_offset.get(tp), candidate.received_ms)


def test_releases_equal_the_plainly_stated_rule() -> None:
    """Memoised broker answers, whole-queue releases and messages added a topic-partition
    run at a time change nothing released."""
    from itertools import groupby

    from hypothesis import given, settings
    from hypothesis import strategies as st

    topics = ("arterial", "infusions", "acks")
    step = st.tuples(
        st.lists(  # messages received at this step: topic, partition, event time, and
            # whether it is held (or only seen: a message whose events were all rejected)
            st.tuples(
                st.sampled_from(topics), st.integers(0, 1), st.integers(0, 50), st.booleans()
            ),
            max_size=12,
        ),
        st.integers(0, 4_000),  # wall time advance
        st.dictionaries(  # per topic-partition: receipt time the broker was polled after
            st.tuples(st.sampled_from(topics), st.integers(0, 1)), st.integers(0, 40_000)
        ),
        st.dictionaries(  # per topic-partition: messages the broker still holds
            st.tuples(st.sampled_from(topics), st.integers(0, 1)), st.integers(0, 2)
        ),
    )

    @settings(max_examples=300, deadline=None)
    @given(st.lists(step, max_size=10))
    def check(steps: list) -> None:  # type: ignore[type-arg]
        real: Aligner[Pending] = Aligner(topics, idle_ms=5_000)
        plain = _OneAtATime(topics, idle_ms=5_000)
        now, offsets = 0, dict[tuple[str, int], int]()
        for aligner in (real, plain):
            aligner.assign([0, 1], now)
        for arrivals, advance, polled, backlog in steps:
            now += advance
            for (topic, partition), run in groupby(arrivals, key=lambda a: a[:2]):
                held = []
                for _, _, ts, holds in run:
                    offset = offsets[(topic, partition)] = offsets.get((topic, partition), -1) + 1
                    if holds:
                        plain.add(Pending(topic, partition, offset, ts, payload=None), now)
                        held.append(Pending(topic, partition, offset, ts, None, None, now))
                    else:
                        plain.seen(topic, partition, offset, now)
                real.add_run(topic, partition, held, offset, now)

            def caught_up(topic: str, partition: int, last: object, fresh_after: int) -> bool:
                return bool(fresh_after <= polled.get((topic, partition), -1))  # noqa: B023

            def unread(topic: str, partition: int, last: object) -> int:
                return int(backlog.get((topic, partition), 0))  # noqa: B023

            got = [(p.topic, p.partition, p.offset) for p in real.release(now, caught_up, unread)]
            want = [(p.topic, p.partition, p.offset) for p in plain.release(now, caught_up, unread)]
            assert got == want

    check()
