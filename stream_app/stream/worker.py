"""Running the worker: check the broker and topics first, then hand over to Faust."""

from __future__ import annotations

import asyncio
import logging

import faust

from stream_app.logging_setup import logging_config
from stream_app.settings import Settings
from stream_app.stream.app import create_app
from stream_app.stream.topics import ensure_topics

log = logging.getLogger("vasowatch.worker")

BROKER_CHECK_TIMEOUT_S = 20.0


def run_worker(settings: Settings) -> int:
    """Run until SIGTERM/SIGINT; fail fast when the broker or topics are unusable."""
    app = create_app(settings)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # Fail fast with a clear message instead of Faust retrying an absent broker forever.
    loop.run_until_complete(asyncio.wait_for(ensure_topics(settings), BROKER_CHECK_TIMEOUT_S))
    worker = faust.Worker(
        app,
        loop=loop,
        loglevel=settings.log_level,
        logging_config=logging_config(settings),
        redirect_stdouts=False,
        quiet=True,
    )
    log.info("worker starting", extra={"topics": list(settings.input_topics)})
    worker.execute_from_commandline()
    return 0  # pragma: no cover - execute_from_commandline exits the process
