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


TOKEN = "a-long-enough-token-0001"


def post_statuses(settings: Settings, attempts: list[tuple[dict[str, str], bytes]]) -> list[int]:
    async def scenario() -> list[int]:
        app = build_board(settings)
        async with TestClient(TestServer(app)) as client:
            app[STATE].apply(alert("b1", "dopamine_use", "high", "firing", "2026-01-01T00:00:00Z"))
            statuses = []
            for headers, payload in attempts:
                reply = await client.post("/api/ack", data=payload, headers=headers)
                statuses.append(reply.status)
            return statuses

    return asyncio.run(scenario())


BODY = orjson.dumps({"bed_id": "b1", "alert_id": "b1-dopamine_use"})
GOOD = {"X-Vasowatch-Board": "1", "Authorization": f"Bearer {TOKEN}"}


def test_acknowledge_refuses_cross_site_unauthenticated_and_unknown() -> None:
    settings = Settings(kafka_bootstrap_servers="127.0.0.1:1", board_users=f"rn-7:{TOKEN}")
    assert post_statuses(
        settings,
        [
            ({"Authorization": f"Bearer {TOKEN}"}, BODY),  # no CSRF header
            ({**GOOD, "Origin": "https://evil.example"}, BODY),  # another site
            ({"X-Vasowatch-Board": "1", "Authorization": "Bearer wrong-token-000000"}, BODY),
            ({"X-Vasowatch-Board": "1"}, BODY),  # nobody
            (GOOD, orjson.dumps({"bed_id": "b1", "alert_id": "nope"})),  # not open
            (GOOD, b"not json"),
        ],
    ) == [403, 403, 401, 401, 404, 400]


def test_a_board_without_users_is_read_only_and_a_proxy_header_names_the_user() -> None:
    plain = Settings(kafka_bootstrap_servers="127.0.0.1:1")
    assert post_statuses(plain, [(GOOD, BODY)]) == [403]
    proxied = Settings(kafka_bootstrap_servers="127.0.0.1:1", board_user_header="X-Forwarded-User")
    header = {"X-Vasowatch-Board": "1"}
    assert post_statuses(
        proxied,
        [(header, BODY), ({**header, "X-Forwarded-User": "not a valid user!"}, BODY)],
    ) == [401, 401]
