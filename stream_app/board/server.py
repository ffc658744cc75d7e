"""``vasowatch board``: the nurse-station page, its live feed and the acknowledge action.

aiohttp (already Faust's web stack) serves a static page, a server-sent-events
stream of board snapshots and a JSON acknowledge endpoint. A Kafka consumer outside
any group reads icu.alerts from the start of the retained window, so a restarted
board shows what is still open; acknowledgements go to icu.alert-acks keyed by bed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from stream_app.board.state import BoardState
from stream_app.settings import Settings
from stream_app.stream.connection import client_options

log = logging.getLogger("vasowatch.board")


@dataclass
class FeedStatus:
    """The board's own view of icu.alerts, shown on the page."""

    connected: bool = False
    caught_up: bool = False
    closing: bool = False


STATIC = Path(__file__).parent / "static"
HEARTBEAT_S = 10
# The custom header a cross-site form or image cannot send: with the Origin check it
# keeps other sites from acknowledging on a nurse's behalf.
CSRF_HEADER = "X-Vasowatch-Board"
_IDENTIFIER = re.compile(r"^[A-Za-z0-9._:@\-]{1,64}$")

STATE = web.AppKey("state", BoardState)
CHANGED = web.AppKey("changed", asyncio.Condition)
KAFKA = web.AppKey("kafka", FeedStatus)
SETTINGS = web.AppKey("settings", Settings)
PRODUCER = web.AppKey("producer", AIOKafkaProducer)


def build_board(settings: Settings) -> web.Application:
    app = web.Application()
    app[SETTINGS] = settings
    app[STATE] = BoardState()
    app[KAFKA] = FeedStatus()
    app.router.add_get("/", _index)
    app.router.add_static("/static/", STATIC)
    app.router.add_get("/events", _events)
    app.router.add_get("/api/board", _snapshot_json)
    app.router.add_post("/api/ack", _acknowledge)
    app.cleanup_ctx.append(_kafka_clients)
    app.on_shutdown.append(_end_streams)
    return app


async def _end_streams(app: web.Application) -> None:
    """Event streams never end by themselves: end them so shutdown does not wait."""
    app[KAFKA].closing = True
    async with app[CHANGED]:
        app[CHANGED].notify_all()


async def _kafka_clients(app: web.Application) -> AsyncIterator[None]:
    app[CHANGED] = asyncio.Condition()
    settings = app[SETTINGS]
    producer = AIOKafkaProducer(**client_options(settings), acks="all", enable_idempotence=True)
    app[PRODUCER] = producer
    reader = asyncio.create_task(_follow_alerts(app))
    try:
        yield
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        with contextlib.suppress(Exception):
            await producer.stop()


async def _follow_alerts(app: web.Application) -> None:
    """Read icu.alerts for ever, reconnecting after broker trouble."""
    settings = app[SETTINGS]
    while True:
        consumer = AIOKafkaConsumer(
            settings.topic_alerts,
            **client_options(settings),
            group_id=None,  # no group: every board reads everything from the start
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        try:
            await consumer.start()
            await app[PRODUCER].start()
            await _set_kafka(app, connected=True)
            while True:
                batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
                changed = False
                for records in batch.values():
                    for record in records:
                        changed |= _apply(app[STATE], record.value)
                # Once the retained window is read, later traffic does not make it "loading".
                caught_up = app[KAFKA].caught_up or (not batch and await _at_end(consumer))
                if changed or caught_up != app[KAFKA].caught_up:
                    await _set_kafka(app, connected=True, caught_up=caught_up)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any broker failure: show it, retry
            log.warning("alerts feed lost, retrying: %s", type(exc).__name__)
            await _set_kafka(app, connected=False, caught_up=False)
            await asyncio.sleep(2)
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()


async def _at_end(consumer: AIOKafkaConsumer) -> bool:
    partitions = consumer.assignment()
    ends = await consumer.end_offsets(list(partitions))
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return False
    return True


def _apply(state: BoardState, value: bytes | None) -> bool:
    try:
        alert = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return False
    return isinstance(alert, dict) and state.apply(alert)


async def _set_kafka(
    app: web.Application, *, connected: bool, caught_up: bool | None = None
) -> None:
    app[KAFKA].connected = connected
    if caught_up is not None:
        app[KAFKA].caught_up = caught_up
    async with app[CHANGED]:
        app[CHANGED].notify_all()


def _snapshot(app: web.Application) -> dict[str, Any]:
    return {
        "version": app[STATE].version,
        "kafka": {"connected": app[KAFKA].connected, "caught_up": app[KAFKA].caught_up},
        "tiles": app[STATE].tiles(),
        "server_time": int(time.time() * 1000),
    }


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def _snapshot_json(request: web.Request) -> web.Response:
    return web.json_response(_snapshot(request.app), dumps=lambda v: orjson.dumps(v).decode())


async def _events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: a snapshot now, then one on every change (and a heartbeat)."""
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
    )
    await response.prepare(request)
    app = request.app
    await response.write(b"retry: 2000\n\n")
    sent = None
    while not app[KAFKA].closing:
        payload = orjson.dumps(_snapshot(app))
        key = (app[STATE].version, app[KAFKA].connected, app[KAFKA].caught_up)
        if key != sent:
            await response.write(b"event: snapshot\ndata: " + payload + b"\n\n")
            sent = key
        else:
            await response.write(b": heartbeat\n\n")
        async with app[CHANGED]:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(app[CHANGED].wait(), HEARTBEAT_S)
    return response


async def _acknowledge(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    refusal = _refuse(request, settings)
    if refusal is not None:
        return refusal
    user = _user(request, settings)
    if user is None:
        return web.json_response({"error": "not authenticated"}, status=401)
    try:
        body = await request.json(loads=orjson.loads)
        bed_id, alert_id = str(body["bed_id"]), str(body["alert_id"])
    except (ValueError, KeyError, TypeError):
        return web.json_response({"error": "send JSON with bed_id and alert_id"}, status=400)
    if request.app[STATE].find(bed_id, alert_id) is None:
        return web.json_response({"error": "no such open alert"}, status=404)
    ack = {"bed_id": bed_id, "ts": int(time.time() * 1000), "alert_id": alert_id, "by": user}
    await request.app[PRODUCER].send_and_wait(
        settings.topic_acks, key=bed_id.encode(), value=orjson.dumps(ack)
    )
    log.info("acknowledged", extra={"bed_id": bed_id, "alert_id": alert_id, "by": user})
    return web.json_response({"acknowledged": alert_id, "by": user}, status=202)


def _refuse(request: web.Request, settings: Settings) -> web.Response | None:
    if request.headers.get(CSRF_HEADER) != "1":
        return web.json_response({"error": f"missing {CSRF_HEADER} header"}, status=403)
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        return web.json_response({"error": "cross-site request"}, status=403)
    if settings.board_users is None and settings.board_user_header is None:
        return web.json_response(
            {"error": "read-only board: set VASOWATCH_BOARD_USERS or VASOWATCH_BOARD_USER_HEADER"},
            status=403,
        )
    return None


def board_users(settings: Settings) -> dict[str, str]:
    """token -> user name, from VASOWATCH_BOARD_USERS ("name:token,name:token")."""
    if settings.board_users is None:
        return {}
    users = {}
    for entry in settings.board_users.get_secret_value().split(","):
        name, _, token = entry.strip().partition(":")
        if _IDENTIFIER.match(name) and len(token) >= 16:
            users[token] = name
    return users


def _user(request: web.Request, settings: Settings) -> str | None:
    """The authenticated user: a bearer token's owner, else the trusted proxy's header."""
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if offered:
        for token, name in board_users(settings).items():
            if hmac.compare_digest(offered.encode(), token.encode()):
                return name
        return None
    if settings.board_user_header is not None:
        user = request.headers.get(settings.board_user_header, "")
        return user if _IDENTIFIER.match(user) else None
    return None


def run_board(settings: Settings) -> int:
    print(f"vasowatch board on http://{settings.board_host}:{settings.board_port}/")
    web.run_app(
        build_board(settings),
        host=settings.board_host,
        port=settings.board_port,
        print=None,
        handle_signals=True,
        shutdown_timeout=5,
    )
    return 0
