"""The usual arterial sample, validated without pydantic.

Arterial samples are nearly all of the input (1 Hz per bed), and full model
validation costs more than everything else the engine does with them. The fast
path accepts only what ``ArterialWire`` certainly accepts, in exactly its form
(epoch-millisecond ``ts``, finite numbers, well-formed identifiers, no ignored
field but ``kind`` and ``source``); anything else, valid or not, goes the model's way,
which gives the precise reason. Property tests hold the two paths to the same answers.

msgspec checks the types in C, straight from the message bytes: against orjson's
parse and a Python check of the dict, the worker's decoding of a sample went from
2.51 to 0.88 us (docs/benchmarks.md, session 15).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from stream_app.domain.events import (
    _EARLIEST_MS,
    _LATEST_MS,
    IDENTIFIER_PATTERN,
    ArterialSample,
)


class _ArterialJson(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """An arterial sample's JSON object as msgspec types it.

    No field is ignored, unlike the model: msgspec skips an ignored value with fewer
    checks than a JSON parser makes (invalid UTF-8 or 1e400 inside it pass), so a
    message with any other field goes the model's way, behind orjson's parse. Every
    typed string is checked for valid UTF-8, and every number for its range.
    """

    bed_id: str
    ts: int
    map: float
    kind: str | None = None  # replay files name it; the live topics say it themselves
    source: str | None = None  # ignored, as by the model; the eICU importer names the cuff
    encounter_id: str | None = None
    sbp: float | None = None
    dbp: float | None = None
    hr: float | None = None


ARTERIAL_JSON = msgspec.json.Decoder(_ArterialJson)
NOT_PLAIN = (msgspec.DecodeError, msgspec.ValidationError)
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN[1:-1])
# A dict built in Python can hold NaN, infinities and integers beyond 2**53, whose
# float differs from them: those are the model's to judge (no arterial value is near).
# From bytes, msgspec refuses numbers beyond a float's range itself.
_MAX_EXACT = float(2**53)


def plain_arterial_json(value: bytes, *, kind: str | None = None) -> ArterialSample | None:
    """The arterial sample a message's bytes plainly are, or None to let the model decide.

    ``kind``: the ``kind`` field the object must carry (replay lines), or None for a
    live topic's message, which may carry any text there or none (the model ignores it).
    """
    try:
        wire = ARTERIAL_JSON.decode(value)
    except NOT_PLAIN:
        return None
    if kind is not None and wire.kind != kind:
        return None
    return plain_sample(wire)


def plain_arterial(element: dict[str, Any]) -> ArterialSample | None:
    """``plain_arterial_json`` for an object already parsed (an element of a batch)."""
    try:
        wire = msgspec.convert(element, _ArterialJson)
    except msgspec.ValidationError:
        return None
    for number in (wire.map, wire.sbp, wire.dbp, wire.hr):
        if number is not None and not -_MAX_EXACT <= number <= _MAX_EXACT:
            return None
    return plain_sample(wire)


def plain_sample(wire: _ArterialJson) -> ArterialSample | None:
    """The sample a typed object is, if its time and identifiers are what the model takes."""
    bed_id, ts, encounter_id = wire.bed_id, wire.ts, wire.encounter_id
    if (
        not _EARLIEST_MS <= ts < _LATEST_MS
        or (bed_id not in _IDENTIFIERS_SEEN and not _identifier(bed_id))
        or (
            encounter_id is not None
            and encounter_id not in _IDENTIFIERS_SEEN
            and not _identifier(encounter_id)
        )
    ):
        return None
    return ArterialSample(bed_id, ts, encounter_id, wire.map, wire.sbp, wire.dbp, wire.hr)


# Identifiers that matched the pattern: the same few thousand bed and encounter ids
# arrive every second, and a set lookup costs a fraction of the regular expression.
_IDENTIFIERS_SEEN: set[str] = set()
_MAX_IDENTIFIERS_SEEN = 100_000


def _identifier(text: str) -> bool:
    if _IDENTIFIER.fullmatch(text) is None:
        return False
    if len(_IDENTIFIERS_SEEN) >= _MAX_IDENTIFIERS_SEEN:
        _IDENTIFIERS_SEEN.clear()
    _IDENTIFIERS_SEEN.add(text)
    return True
