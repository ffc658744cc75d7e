"""The ``vasowatch`` command.

Settings are built here, once, and passed down to whatever a sub-command runs.
Exit codes: 0 done, 1 failed at run time, 2 unusable input or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import orjson

from stream_app.engine.engine import Engine
from stream_app.engine.pack import PackError, RulePack
from stream_app.engine.registry import load_rule_pack
from stream_app.exceptions import ConfigurationError, VasowatchError
from stream_app.local_kafka import LocalKafka
from stream_app.replay import replay
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

    replay = commands.add_parser(
        "replay", help="run the rule engine over a JSON Lines file; alerts to stdout"
    )
    replay.add_argument("file", help="JSON Lines file, or - for standard input")
    replay.add_argument("--rules", type=Path, default=None, help="rule pack folder")

    rules = commands.add_parser("rules", help="validate or show the rule pack")
    rules.add_argument(
        "action",
        choices=["check", "show", "configmap"],
        help="configmap: print the pack as a Kubernetes ConfigMap (kubectl apply -f -)",
    )
    rules.add_argument("directory", nargs="?", type=Path, default=None)

    importer = commands.add_parser(
        "import", help="convert a public ICU extract into replay JSON Lines"
    )
    importer.add_argument("source", choices=["eicu", "mimic3"])
    importer.add_argument("directory", type=Path, help="folder of the extract's CSV files")
    importer.add_argument("-o", "--output", default="-", help="file to write (default stdout)")
    importer.add_argument(
        "--cuff-as-map",
        action="store_true",
        help="eICU: carry cuff mean pressures as arterial samples (marked source=cuff)",
    )
    importer.add_argument(
        "--start",
        type=_utc_time,
        default=None,
        help="event time of each stay's admission (RFC 3339; default 2026-01-01T00:00:00Z)",
    )
    importer.add_argument(
        "--tick-min",
        type=float,
        default=5,
        help="clock ticks every so many minutes, as the live worker ticks (0: none)",
    )

    report = commands.add_parser(
        "report", help="replay a file and print its alert burden (table, JSON, chart)"
    )
    report.add_argument("file", type=Path, help="replay JSON Lines file")
    report.add_argument("--rules", type=Path, default=None, help="rule pack folder")
    report.add_argument("--json", type=Path, default=None, help="also write the report as JSON")
    report.add_argument("--chart", type=Path, default=None, help="also write a PNG chart")

    commands.add_parser(
        "board", help="the nurse-station board (web page) on VASOWATCH_BOARD_HOST:PORT"
    )

    simulate = commands.add_parser(
        "simulate", help="publish realistic bedside feeds in real time, or write them as JSON Lines"
    )
    simulate.add_argument("--beds", type=int, default=24)
    simulate.add_argument("--rate", type=float, default=1.0, help="arterial samples per second")
    simulate.add_argument("--seed", type=int, default=1)
    simulate.add_argument("--minutes", type=float, default=None, help="stop after (default: never)")
    simulate.add_argument(
        "--jsonl", default=None, help="write this many --minutes as replay JSON Lines instead"
    )

    demo = commands.add_parser(
        "demo", help="local broker + worker + a short built-in feed, printing the output"
    )
    demo.add_argument("--seconds", type=float, default=None, help="stop after (default: Ctrl-C)")
    demo.add_argument("--beds", type=int, default=24)
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
    commands = {
        "worker": _worker,
        "kafka": _kafka,
        "replay": _replay,
        "rules": _rules,
        "import": _import,
        "report": _report,
        "simulate": _simulate,
        "board": _board,
        "demo": _demo,
    }
    return commands[args.command](args, settings)


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from stream_app.stream.worker import run_worker

    return run_worker(settings)


def _board(args: argparse.Namespace, settings: Settings) -> int:
    from stream_app.board.server import run_board

    return run_board(settings)


def _simulate(args: argparse.Namespace, settings: Settings) -> int:
    from stream_app.simulator.run import Unit, publish, write_jsonl

    unit = Unit(beds=args.beds, rate_hz=args.rate, seed=args.seed)
    if args.jsonl is not None:
        minutes = args.minutes if args.minutes is not None else 60
        start_ms = 1_772_352_000_000  # fixed, so a seed gives the same file every time
        with open(args.jsonl, "wb") as out:
            count = write_jsonl(unit, minutes, start_ms, out)
        print(f"{count} records for {unit.beds} beds over {minutes:g} min", file=sys.stderr)
        return 0
    sent = asyncio.run(publish(settings, unit, args.minutes))
    print(f"{sent} records published", file=sys.stderr)
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from stream_app.demo import run_demo

    return run_demo(settings, seconds=args.seconds, beds=args.beds)


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from stream_app.importers.cli import ImportOptions, import_command

    options = ImportOptions(args.cuff_as_map, args.start or ImportOptions.start, args.tick_min)
    return import_command(args.source, args.directory, args.output, options)


def _utc_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone offset or Z")
    return value


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from stream_app.report import burden, render_table, write_chart

    if not args.file.is_file():
        raise ConfigurationError(f"{args.file}: no such file")
    pack = _load_pack(args.rules or settings.rules_dir)
    with args.file.open("rb") as lines:
        result = burden(lines, Engine(pack))
    print(render_table(result))
    if args.json is not None:
        args.json.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    if args.chart is not None:
        write_chart(result, args.chart, f"Alert episodes per rule: {args.file.name}")
    return 0


def _load_pack(directory: Path) -> RulePack:
    try:
        return load_rule_pack(directory)
    except PackError as exc:
        raise ConfigurationError(f"invalid rule pack: {exc}") from None


def _replay(args: argparse.Namespace, settings: Settings) -> int:
    pack = _load_pack(args.rules or settings.rules_dir)
    engine = Engine(pack)
    if args.file == "-":
        summary = replay(sys.stdin.buffer, engine, sys.stdout.buffer, sys.stderr)
    else:
        try:
            handle = Path(args.file).open("rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            print(f"vasowatch: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
            return EXIT_UNUSABLE
        with handle:
            summary = replay(handle, engine, sys.stdout.buffer, sys.stderr)
    sys.stdout.flush()
    print(
        f"replayed {summary.events} records ({summary.invalid} invalid), "
        f"{summary.transitions} alert transitions",
        file=sys.stderr,
    )
    return 0


def _rules(args: argparse.Namespace, settings: Settings) -> int:
    directory = args.directory or settings.rules_dir
    pack = _load_pack(directory)
    if args.action == "configmap":
        from stream_app.rules_configmap import rules_configmap_yaml

        print(rules_configmap_yaml(directory), end="")
        return 0
    if args.action == "check":
        enabled = sum(rule.enabled for rule in pack.rules.values())
        print(
            f"{directory}: valid, {enabled}/{len(pack.rules)} rules enabled, version {pack.version}"
        )
        return 0
    print(f"rule pack {directory} version {pack.version} ({pack.settings.version_label})")
    shared = pack.settings.model_dump(exclude={"version_label"})
    for section, values in shared.items():
        if isinstance(values, dict):
            numbers = {k: v for k, v in values.items() if k != "citation"}
            print(f"  {section}: " + ", ".join(f"{k}={v}" for k, v in numbers.items()))
        else:
            print(f"  {section}: {values}")
    for rule_id, rule in sorted(pack.rules.items()):
        state = "on " if rule.enabled else "OFF"
        params = ", ".join(f"{k}={v}" for k, v in rule.params.model_dump().items())
        print(f"  [{state}] {rule_id} ({rule.severity}): {params or '-'}")
    return 0


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
