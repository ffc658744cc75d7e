"""Event-time alignment across co-partitioned topics (pure logic, fake broker positions)."""

from __future__ import annotations

from stream_app.stream.aligner import Aligner, Pending

TOPICS = ("arterial", "infusions")


def _item(topic: str, offset: int, ts: int, partition: int = 0) -> Pending:
    return Pending(topic, partition, offset, ts, payload=None)


def _never(*_: object) -> bool:
    return False


def _always(*_: object) -> bool:
    return True


def test_releases_in_event_time_order_across_topics() -> None:
    """With both topics queued, the lowest event time goes first."""
    aligner = Aligner(TOPICS, idle_ms=10_000)
    aligner.assign([0], 0)
    for item in [_item("arterial", 0, 10), _item("arterial", 1, 20), _item("infusions", 0, 15)]:
        aligner.add(item, 0)
    released = aligner.release(0, _never)
    # arterial@20 waits: infusions is empty and not known to be caught up.
    assert [(p.topic, p.ts) for p in released] == [("arterial", 10), ("infusions", 15)]
    assert [(p.topic, p.ts) for p in aligner.release(0, _always)] == [("arterial", 20)]


def test_a_topic_read_ahead_waits_for_the_other() -> None:
    """A pump change at minute 5 is not applied before samples of minutes 0-4 arrive."""
    aligner = Aligner(TOPICS, idle_ms=10_000)
    aligner.assign([0], 0)
    aligner.add(_item("infusions", 0, 300_000), 0)
    assert aligner.release(100, _never) == []
    for offset, ts in enumerate(range(0, 360_000, 60_000)):
        aligner.add(_item("arterial", offset, ts), 200)
    order = [p.ts for p in aligner.release(200, _never)]
    assert order == [0, 60_000, 120_000, 180_000, 240_000, 300_000]


def test_idle_topic_stops_blocking_after_the_idle_limit() -> None:
    """A partition that delivers nothing while its siblings do is waited for only so long."""
    aligner = Aligner(TOPICS, idle_ms=1_000)
    aligner.assign([0], 0)
    aligner.add(_item("arterial", 0, 10), 5_000)
    assert aligner.release(5_500, _never) == []
    assert len(aligner.release(6_001, _never)) == 1


def test_partitions_are_independent_and_revocation_drops_held() -> None:
    """Holding on partition 0 does not hold partition 1; revoked messages are handed back."""
    aligner = Aligner(TOPICS, idle_ms=10_000)
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

    aligner = Aligner(TOPICS, idle_ms=10_000)
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

    acks = OrderedAcks(Held(), acked.append)
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
    aligner = Aligner(TOPICS, idle_ms=1_000)
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
    aligner = Aligner(TOPICS, idle_ms=10_000)
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
