"""Running the worker: check the rule pack, the broker and the topics, then hand over to Faust."""

from __future__ import annotations

import asyncio
import gc
import logging

import faust
from aiokafka.errors import KafkaError

from stream_app.engine.pack import PackError
from stream_app.engine.registry import load_rule_pack
from stream_app.exceptions import BrokerUnavailableError, ConfigurationError
from stream_app.logging_setup import configure_logging, logging_config
from stream_app.settings import Settings
from stream_app.stream.app import create_app
from stream_app.stream.audit import previous_rulepack_version
from stream_app.stream.diagnostics import consumer_state, task_stacks
from stream_app.stream.topics import ensure_topics

log = logging.getLogger("vasowatch.worker")

# Python's default (700, 10, 10) collected the young generation every few hundred
# events and the older ones, full of objects that live as long as their bed, every
# few thousand. With fewer collections one worker drained 10,000 beds 14% faster and
# 1,000 beds 3-4% faster (paired runs of bench.worker_bench): the more beds, the more
# each old-generation collection walks. Cycles are still collected, later.
GC_THRESHOLDS = (50_000, 20, 100)


def run_worker(settings: Settings) -> int:
    """Run until SIGTERM/SIGINT; fail fast when the pack, broker or topics are unusable."""
    configure_logging(settings)
    try:
        pack = load_rule_pack(settings.rules_dir)
    except PackError as exc:
        raise ConfigurationError(f"invalid rule pack, refusing to start: {exc}") from None
    log.info(
        "rule pack loaded",
        extra={"rulepack_version": pack.version, "rulepack_label": pack.settings.version_label},
    )
    app = create_app(settings, pack)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # Fail fast with a clear message instead of Faust retrying an absent broker forever.
    try:
        loop.run_until_complete(
            asyncio.wait_for(ensure_topics(settings), settings.broker_timeout_s)
        )
    except TimeoutError:
        raise BrokerUnavailableError(
            f"Kafka at {settings.kafka_bootstrap_servers} did not answer within "
            f"{settings.broker_timeout_s:.0f}s"
        ) from None
    _audit_rulepack(loop, settings, pack.version)
    worker = DiagnosableWorker(
        app,
        loop=loop,
        loglevel=settings.log_level,
        logging_config=logging_config(settings),
        redirect_stdouts=False,
        quiet=True,
    )
    # Start-up objects (modules, the rule pack, Faust's services) never need collecting.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    worker.spinner = None  # a terminal spinner would write escape codes into logs and pipes
    log.info("worker starting", extra={"topics": list(settings.input_kinds)})
    worker.execute_from_commandline()
    return 0  # pragma: no cover - execute_from_commandline exits the process


class DiagnosableWorker(faust.Worker):
    """Faust's worker with signal diagnostics fit for an unattended daemon."""

    def _on_sigusr1(self) -> None:
        log.warning("stacks on request (SIGUSR1)\n%s", task_stacks(self.loop))
        log.warning("consumer state on request (SIGUSR1)\n%s", consumer_state(self.app))

    def _on_sigusr2(self) -> None:
        log.warning("SIGUSR2 ignored: a debugger would stop the worker waiting for a terminal")


def _audit_rulepack(loop: asyncio.AbstractEventLoop, settings: Settings, version: str) -> None:
    """Log, for the audit trail, whether the rules changed since the last alert."""
    try:
        previous = loop.run_until_complete(
            asyncio.wait_for(previous_rulepack_version(settings), settings.broker_timeout_s)
        )
    except (TimeoutError, KafkaError, OSError) as exc:
        log.warning("could not read the previous rule-pack version: %s", type(exc).__name__)
        return
    if previous is None:
        log.info("no earlier alert on record; rule pack %s", version)
    elif previous != version:
        log.warning(
            "rule pack changed since the last alert",
            extra={"rulepack_old_version": previous, "rulepack_new_version": version},
        )
    else:
        log.info("rule pack unchanged since the last alert", extra={"rulepack_version": version})
