"""The ``vasowatch`` command.

Settings are built here, once, and passed down to whatever a sub-command runs.
Exit codes: 0 done, 1 failed at run time, 2 unusable input or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from stream_app.exceptions import ConfigurationError, VasowatchError
from stream_app.local_kafka import LocalKafka
from stream_app.settings import Settings, load_settings

EXIT_FAILED = 1
EXIT_UNUSABLE = 2


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vasowatch", description="Streaming vasopressor alerting for septic shock."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("worker", help="run the stream processor (Faust worker)")

    kafka = commands.add_parser("kafka", help="manage the project's local Apache Kafka broker")
    kafka.add_argument("action", choices=["start", "stop", "status", "topics"])
    kafka.add_argument("--port", type=int, default=9092, help="broker port on 127.0.0.1")
    kafka.add_argument("--controller-port", type=int, default=9093)
    kafka.add_argument("--state-dir", type=Path, default=None, help="data, logs and pid file")

    demo = commands.add_parser(
        "demo", help="local broker + worker + a short built-in feed, printing the output"
    )
    demo.add_argument("--beds", type=int, default=4)
    demo.add_argument("--seconds", type=int, default=60, help="length of the feed in event time")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    try:
        settings = load_settings()
        return _dispatch(args, settings)
    except ConfigurationError as exc:
        print(f"vasowatch: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except VasowatchError as exc:
        print(f"vasowatch: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "worker":
        from stream_app.stream.worker import run_worker

        return run_worker(settings)
    if args.command == "kafka":
        return _kafka(args, settings)
    if args.command == "demo":
        from stream_app.demo import run_demo

        return run_demo(settings, beds=args.beds, seconds=args.seconds)
    raise AssertionError(f"unhandled command {args.command}")  # argparse forbids this


def _kafka(args: argparse.Namespace, settings: Settings) -> int:
    broker = LocalKafka(port=args.port, controller_port=args.controller_port)
    if args.state_dir is not None:
        broker = LocalKafka(
            port=args.port, controller_port=args.controller_port, state_dir=args.state_dir
        )
    if args.action == "start":
        started = broker.start()
        print(("started: " if started else "already running: ") + broker.status())
    elif args.action == "stop":
        print("stopped" if broker.stop() else "was not running")
    elif args.action == "status":
        print(broker.status())
        return 0 if broker.running_pid() is not None else 3
    elif args.action == "topics":
        from stream_app.stream.topics import ensure_topics

        created = asyncio.run(ensure_topics(settings))
        print("created: " + (", ".join(created) if created else "none (all present)"))
    return 0
