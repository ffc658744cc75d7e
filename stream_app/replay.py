"""Offline replay: JSON Lines through exactly the engine the worker runs.

Each line is an event of the contract with an added ``kind`` (``arterial``,
``infusion``, ``observation``, ``ack``), ``{"kind": "tick", "ts": ...}``, or
``{"kind": "comment", "text": ...}`` (ignored: scenario files explain themselves).
Alert transitions go to stdout as JSON lines and nothing else does; invalid
lines are reported on stderr with their number and reason, and replay goes on.
In replay ``emitted_at`` is the transition's event time: nothing is emitted in
real time, and the output of a file is the same on every run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO

import orjson

from stream_app.domain.codec import Rejection, decode_element
from stream_app.domain.events import WIRE_MODELS, Event, parse_event_time
from stream_app.domain.plain import plain_arterial_json
from stream_app.engine.alerts import render_alert
from stream_app.engine.engine import Engine, Step
from stream_app.engine.state import BedState

BLANK = "blank"  # not a problem: an empty line is simply no record


@dataclass
class ReplaySummary:
    lines: int = 0
    events: int = 0
    invalid: int = 0
    transitions: int = 0
    notes: dict[str, int] = field(default_factory=dict)


class Replayer:
    """Feeds records to the engine, keeping every bed's state in memory."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.beds: dict[str, BedState] = {}

    def record(self, line: bytes) -> tuple[Sequence[Step], str | None]:
        """Apply one JSON line; returns the steps taken, and the reason it was invalid.

        A blank line is no record: ``((), BLANK)``.
        """
        # Nearly every record is an arterial sample: the shortest way through.
        sample = plain_arterial_json(line, kind="arterial")
        if sample is not None:
            return self._apply(sample)
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            return (), (BLANK if not line.strip() else f"not_json: {exc.msg}")
        if type(record) is not dict:
            return (), "not_object: a record is a JSON object"
        kind = record.get("kind")
        if kind == "comment":  # scenario files explain themselves to their readers
            return (), None
        if kind == "tick":
            try:
                ts = parse_event_time(record.get("ts"))
            except ValueError as exc:  # PydanticCustomError is a ValueError
                return (), f"invalid_value: tick ts: {exc}"
            return self.tick(ts), None
        if kind not in WIRE_MODELS:
            return (), "invalid_value: kind must be arterial, infusion, observation, ack or tick"
        outcome = decode_element(str(kind), record)
        if isinstance(outcome, Rejection):
            return (), f"{outcome.reason}: {outcome.detail}"
        return self._apply(outcome)

    def _apply(self, outcome: Event) -> tuple[Sequence[Step], str | None]:
        beds = self.beds
        step = self.engine.apply_in_place(beds.get(outcome.bed_id), outcome)
        if step is None:  # the bed's next sample, applied to its state in place
            return (), None
        beds[step.state.bed_id] = step.state
        if step.rejection is not None:
            return (step,), f"{step.rejection.reason}: {step.rejection.detail}"
        return (step,), None

    def tick(self, ts: int) -> list[Step]:
        steps = []
        for bed_id in sorted(self.beds):
            step = self.engine.tick(self.beds[bed_id], ts)
            self.beds[bed_id] = step.state
            steps.append(step)
        return steps


def replay(lines: Iterable[bytes], engine: Engine, out: IO[bytes], err: IO[str]) -> ReplaySummary:
    summary = ReplaySummary()
    record = Replayer(engine).record
    notes = summary.notes
    number = events = invalid = transitions = 0
    for number, line in enumerate(lines, start=1):
        steps, problem = record(line)
        if problem is None:
            events += 1
        elif problem is not BLANK:
            invalid += 1
            err.write(f"line {number}: {problem}\n")
        for step in steps:
            for note in step.notes:
                notes[note] = notes.get(note, 0) + 1
            for transition in step.transitions:
                transitions += 1
                document = render_alert(transition, engine.pack, transition.event_ms)
                out.write(orjson.dumps(document) + b"\n")
    summary.lines, summary.events = number, events
    summary.invalid, summary.transitions = invalid, transitions
    return summary
