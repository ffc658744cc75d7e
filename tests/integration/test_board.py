"""The nurse-station board in a real browser (Debian's Chromium driven by Playwright)
against a real worker and broker: alerts appear ordered by severity, an acknowledgement
clicked on the page reaches icu.alert-acks and stops re-notification, a resolved alert
leaves its tile, and a silent line shows as "feed lost"."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from pydantic import SecretStr

from stream_app.local_kafka import PROJECT_ROOT
from stream_app.settings import Settings
from tests.integration.conftest import WorkerProcess, free_port, settings_env
from tests.integration.kafka_io import produce_feed, read_until, wait_ready

pytestmark = pytest.mark.kafka
OUTPUT = PROJECT_ROOT / "test-output"
MINUTE = 60_000


def run(coro: Any) -> Any:
    """Kafka helpers on a thread of their own: Playwright's sync API owns this one's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    assert executable, "chromium missing: `make test` installs Debian's chromium package"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True)
        yield launched
        launched.close()


def board_snapshot(port: int) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/board", timeout=3) as reply:
            snapshot: dict[str, Any] = json.loads(reply.read())
            return snapshot
    except OSError:
        return {}


def start_board(settings: Settings, tmp_path: Path) -> WorkerProcess:
    board = WorkerProcess(settings_env(settings), tmp_path / "board.log", command="board").start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if board_snapshot(settings.board_port).get("kafka", {}).get("caught_up"):
            return board
        time.sleep(0.3)
    raise AssertionError(board.log_text()[-3000:])


def pump(bed: str, ts: int, drug: str, rate: float, unit: str, status: str = "running") -> bytes:
    record: dict[str, Any] = {"kind": "infusion", "bed_id": bed, "ts": ts, "pump_id": f"p-{drug}",
                              "drug": drug, "status": status}  # fmt: skip
    if status == "running":
        record.update(rate=rate, rate_unit=unit)
    return orjson.dumps(record)


def samples(bed: str, start: int, end: int, every_ms: int = 10_000) -> list[tuple[int, bytes]]:
    return [
        (ts, orjson.dumps({"kind": "arterial", "bed_id": bed, "ts": ts, "map": 72}))
        for ts in range(start, end, every_ms)
    ]


def feed(settings: Settings, records: list[tuple[int, bytes]]) -> None:
    topics = {kind: topic for topic, kind in settings.input_kinds.items()}
    ordered = [line for _, line in sorted(records, key=lambda r: r[0])]
    run(produce_feed(settings.kafka_bootstrap_servers, topics, ordered))


def test_board_in_chromium(
    worker_settings: Settings,
    start_worker: Callable[..., WorkerProcess],
    browser: Browser,
    tmp_path: Path,
) -> None:
    token = "nurse-seven-token-0123456789"
    s = worker_settings.model_copy(
        update={"board_port": free_port(), "board_users": SecretStr(f"rn-7:{token}")}
    )
    worker = start_worker(tick_interval_s=1)
    assert wait_ready(s.web_port), worker.log_text()[-3000:]
    board = start_board(s, tmp_path)
    t0 = int(time.time() * 1000) - 14 * MINUTE
    first: list[tuple[int, bytes]] = [
        # bed-hi: vasopressin above the ceiling (high), to be acknowledged on the page.
        (t0, pump("bed-hi", t0, "norepinephrine", 8, "mcg/min")),
        (t0, pump("bed-hi", t0, "vasopressin", 0.06, "units/min")),
        # bed-hi2: vasopressin alone (high), never acknowledged: it must re-notify.
        (t0, pump("bed-hi2", t0, "vasopressin", 0.03, "units/min")),
        # bed-med: phenylephrine (medium).
        (t0, pump("bed-med", t0, "phenylephrine", 100, "mcg/min")),
        # bed-lost: norepinephrine, and the line goes silent after one minute.
        (t0, pump("bed-lost", t0, "norepinephrine", 6, "mcg/min")),
    ]
    for bed in ("bed-hi", "bed-hi2", "bed-med"):
        first += samples(bed, t0, t0 + 3 * MINUTE)
    first += samples("bed-lost", t0, t0 + MINUTE)
    feed(s, first)

    page: Page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(f"http://127.0.0.1:{s.board_port}/#token={token}")
        tiles = page.locator("#tiles > .tile")
        expect(page.locator('[data-bed="bed-med"]')).to_be_visible(timeout=60_000)
        expect(page.locator('[data-bed="bed-hi"]')).to_be_visible()
        expect(page.locator('[data-bed="bed-hi2"]')).to_be_visible()
        expect(page.locator("#connection")).to_have_text("Live")
        # Most severe first; the medium bed after both high ones.
        order = [tiles.nth(i).get_attribute("data-bed") for i in range(tiles.count())]
        assert order.index("bed-med") > max(order.index("bed-hi"), order.index("bed-hi2")), order
        ceiling = page.locator('[data-bed="bed-hi"] [data-rule="vasopressin_above_ceiling"]')
        expect(ceiling.locator(".evidence")).to_contain_text("0.06")
        expect(ceiling.locator(".since")).to_contain_text("firing for")

        # Acknowledge on the page: it reaches icu.alert-acks and the worker confirms.
        alert_id = ceiling.get_attribute("data-alert-id")
        ceiling.locator("button.ack").click()
        acks = run(read_until(s.kafka_bootstrap_servers, [s.topic_acks], bool, 30))
        ack = orjson.loads(acks[0].value)
        assert (ack["bed_id"], ack["alert_id"], ack["by"]) == ("bed-hi", alert_id, "rn-7")
        expect(ceiling).to_have_attribute("data-status", "acknowledged", timeout=30_000)
        expect(ceiling.locator(".ack-state")).to_have_text("acknowledged by rn-7")
        assert token not in page.url  # the token leaves the address bar

        # Twelve more minutes of data: bed-hi2 re-notifies, bed-hi (acknowledged) does not;
        # bed-lost's pump changes with no arterial sample since minute 1: feed lost.
        later = samples("bed-hi", t0 + 3 * MINUTE, t0 + 13 * MINUTE)
        later += samples("bed-hi2", t0 + 3 * MINUTE, t0 + 13 * MINUTE)
        later.append(
            (t0 + 13 * MINUTE, pump("bed-lost", t0 + 13 * MINUTE, "norepinephrine", 8, "mcg/min"))
        )
        feed(s, later)

        def renotified(records: list[Any]) -> bool:
            return any(
                orjson.loads(r.value)["bed_id"] == "bed-hi2"
                and orjson.loads(r.value)["notification"] > 1
                for r in records
            )

        alerts = run(read_until(s.kafka_bootstrap_servers, [s.topic_alerts], renotified, 60))
        of_hi = [
            orjson.loads(r.value) for r in alerts if orjson.loads(r.value)["alert_id"] == alert_id
        ]
        assert [(a["status"], a["notification"]) for a in of_hi] == [
            ("firing", 1),
            ("acknowledged", 1),
        ]
        lost = page.locator('[data-bed="bed-lost"]')
        expect(lost.locator(".feed-lost")).to_be_visible(timeout=30_000)
        OUTPUT.mkdir(exist_ok=True)
        expect(page.locator("#connection")).to_have_text("Live")
        page.screenshot(path=str(OUTPUT / "board.png"), full_page=True)

        # The board restarts: the page says so, reconnects on its own, and the new
        # board, reading icu.alerts from the start, shows what is still open.
        board.stop()
        expect(page.locator("#connection")).to_have_attribute("data-state", "reconnecting")
        board = start_board(s, tmp_path)
        expect(page.locator("#connection")).to_have_text("Live", timeout=30_000)
        expect(page.locator('[data-bed="bed-hi2"]')).to_be_visible()
        expect(ceiling).to_have_attribute("data-status", "acknowledged")

        # Vasopressin stopped: the ceiling alert resolves and leaves bed-hi's tile.
        stop = t0 + 13 * MINUTE + 1000
        feed(s, [(stop, pump("bed-hi", stop, "vasopressin", 0, "", status="stopped")),
                 *samples("bed-hi", stop, stop + 3 * MINUTE)])  # fmt: skip
        expect(ceiling).to_have_count(0, timeout=30_000)
        assert board.alive(), board.log_text()[-2000:]
    finally:
        page.close()
        board.stop()
