"""What the board shows, from alert transitions alone, and who may acknowledge."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp.test_utils import TestClient, TestServer

from stream_app.board.server import STATE, build_board
from stream_app.board.state import BoardState
from stream_app.settings import Settings


def alert(
    bed: str, rule: str, severity: str, status: str, started: str, **extra: Any
) -> dict[str, Any]:
    return {"alert_id": f"{bed}-{rule}", "bed_id": bed, "rule_id": rule, "severity": severity,
            "status": status, "notification": 1, "title": rule, "recommendation": "",
            "evidence": {}, "started_at": started, "event_ts": started, **extra}  # fmt: skip


def test_tiles_ordered_by_severity_then_unseen_then_age() -> None:
    board = BoardState()
    board.apply(alert("b1", "phenylephrine_use", "medium", "firing", "2026-01-01T00:00:00Z"))
    board.apply(alert("b2", "vasopressin_monotherapy", "high", "firing", "2026-01-01T00:05:00Z"))
    board.apply(alert("b3", "vasopressin_above_ceiling", "high", "firing", "2026-01-01T00:01:00Z"))
    board.apply(
        alert("b3", "vasopressin_above_ceiling", "high", "acknowledged", "2026-01-01T00:01:00Z")
    )
    assert [t["bed_id"] for t in board.tiles()] == ["b2", "b3", "b1"]


def test_resolved_leaves_and_empty_beds_disappear_and_feed_lost_is_flagged() -> None:
    board = BoardState()
    board.apply(alert("b1", "arterial_feed_stale", "high", "firing", "2026-01-01T00:00:00Z"))
    board.apply(alert("b1", "dopamine_use", "medium", "firing", "2026-01-01T00:00:00Z"))
    assert board.tiles()[0]["feed_lost"] is True
    board.apply(alert("b1", "arterial_feed_stale", "high", "resolved", "2026-01-01T00:00:00Z"))
    assert board.tiles()[0]["feed_lost"] is False
    version = board.version
    board.apply(alert("b1", "dopamine_use", "medium", "resolved", "2026-01-01T00:00:00Z"))
    assert board.tiles() == []
    assert board.version == version + 1
    assert not board.apply({"nonsense": True})


def test_a_late_renotification_does_not_undo_an_acknowledgement() -> None:
    board = BoardState()
    board.apply(alert("b1", "dopamine_use", "high", "acknowledged", "2026-01-01T00:00:00Z"))
    board.apply(
        alert("b1", "dopamine_use", "high", "firing", "2026-01-01T00:00:00Z", notification=2)
    )
    assert board.tiles()[0]["alerts"][0]["status"] == "acknowledged"


def test_acknowledge_refuses_cross_site_unauthenticated_and_unknown() -> None:
    settings = Settings(kafka_bootstrap_servers="127.0.0.1:1", board_token="s3cret")  # type: ignore[arg-type]

    async def scenario() -> list[int]:
        app = build_board(settings)
        async with TestClient(TestServer(app)) as client:
            app[STATE].apply(alert("b1", "dopamine_use", "high", "firing", "2026-01-01T00:00:00Z"))
            body = orjson.dumps({"bed_id": "b1", "alert_id": "b1-dopamine_use"})
            good = {"X-Vasowatch-Board": "1", "Authorization": "Bearer s3cret"}
            statuses = []
            for headers, payload in [
                ({"Authorization": "Bearer s3cret"}, body),  # no CSRF header
                ({**good, "Origin": "https://evil.example"}, body),  # another site
                ({"X-Vasowatch-Board": "1", "Authorization": "Bearer wrong"}, body),
                (good, orjson.dumps({"bed_id": "b1", "alert_id": "nope"})),  # not open
                (good, b"not json"),
            ]:
                reply = await client.post("/api/ack", data=payload, headers=headers)
                statuses.append(reply.status)
            return statuses

    assert asyncio.run(scenario()) == [403, 403, 401, 404, 400]
