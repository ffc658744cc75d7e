"""Bytes -> validated events, or a reason from a fixed list. Never raises on input.

One message holds one event object or a JSON array of event objects of the same
bed and kind; each element is validated on its own, so one bad element is
rejected while its valid siblings are kept. Details name fields and rules,
never payload values (privacy: a stray name or record number must not leak).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError

from stream_app.domain.events import WIRE_MODELS, Event
from stream_app.domain.plain import ARTERIAL_JSON, NOT_PLAIN, plain_arterial, plain_sample

DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024
FUTURE_TOLERANCE_MS = 5 * 60 * 1000

REASONS = (
    "empty",  # no value
    "oversized",  # over the maximum message size
    "not_json",  # not valid UTF-8 JSON
    "non_finite_number",  # NaN or Infinity
    "not_object",  # neither an object nor an array of objects
    "missing_field",
    "wrong_type",
    "negative_rate",
    "unknown_unit",
    "unit_mismatch",  # unit that does not fit the drug or the observation
    "unknown_code",
    "no_timezone",
    "future_timestamp",  # more than 5 minutes ahead of the wall clock
    "invalid_value",  # any other constraint (identifier syntax, range)
    "key_mismatch",  # Kafka key is not the element's bed id (breaks co-partitioning)
    "late",  # a sample too old for every window (decided by the engine)
    "bed_capacity",  # too many beds in state (decided by the engine)
)

_TYPE_ERRORS = frozenset(
    {
        "float_type",
        "int_type",
        "string_type",
        "bool_type",
        "model_type",
        "dict_type",
        "float_parsing",
        "int_parsing",
        "int_from_float",
        "none_required",
    }
)
_UNIT_FIELDS = frozenset({"rate_unit", "concentration_unit"})


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: str
    detail: str
    element: int | None = None  # index in a batched message, None for the whole message
    element_bytes: bytes | None = None  # what to dead-letter: the message, or the element


@dataclass(slots=True)
class Decoded:
    events: list[Event] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def decode_message(
    kind: str,
    value: bytes | None,
    *,
    key: bytes | None = None,
    check_key: bool = False,
    now_ms: int | None = None,
    max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
) -> Decoded:
    """Decode one message of a kind (``arterial``, ``infusion``, ``observation``, ``ack``).

    ``now_ms`` enables the future-timestamp check (live input); replay passes None.
    """
    parsed = _parse(value, max_bytes)
    if isinstance(parsed, Rejection):
        return Decoded([], [parsed])
    assert value is not None  # parsed
    expected_bed = key.decode("utf-8", "replace") if check_key and key is not None else None
    if type(parsed) is dict:
        # One event per message is nearly all input: no element loop, no index.
        outcome = decode_element(kind, parsed, now_ms=now_ms)
        if isinstance(outcome, Rejection) or (check_key and outcome.bed_id != expected_bed):
            return Decoded([], [_rejected(outcome, key, None, value)])
        return Decoded([outcome], [])
    result = Decoded()
    if not (isinstance(parsed, list) and parsed):
        result.rejections.append(
            Rejection("not_object", "expected an object or array of objects", element_bytes=value)
        )
        return result
    for index, element in enumerate(parsed):
        outcome = decode_element(kind, element, now_ms=now_ms)
        if isinstance(outcome, Rejection) or (check_key and outcome.bed_id != expected_bed):
            result.rejections.append(_rejected(outcome, key, index, orjson.dumps(element)))
        else:
            result.events.append(outcome)
    return result


def decode_plain(
    kind: str, value: bytes | None, key: bytes | None, now_ms: int, max_bytes: int
) -> Event | None:
    """The one event a live message plainly is, or None to let ``decode_message`` decide.

    Nearly all input is one arterial sample per message, for which ``decode_message``
    spent a third of the worker's processing on its general case (a result object,
    keyword calls, the element loop's checks). This answers only when the message is a
    single JSON object that ``plain_arterial_json`` takes, not ahead of the wall
    clock, of the bed its key names: exactly when ``decode_message`` would give that
    one event and no rejection. A property test holds the two to that.
    """
    if kind != "arterial" or not value or len(value) > max_bytes or key is None:
        return None
    # plain_arterial_json's work, without its call: this runs for nearly every message.
    try:
        wire = ARTERIAL_JSON.decode(value)
    except NOT_PLAIN:
        return None
    sample = plain_sample(wire)
    if (
        sample is None
        or sample.ts > now_ms + FUTURE_TOLERANCE_MS
        or sample.bed_id != key.decode("utf-8", "replace")
    ):
        return None
    return sample


def _parse(value: bytes | None, max_bytes: int) -> Any:
    """The message's JSON value, or why there is none."""
    if not value:
        return Rejection("empty", "message has no value", element_bytes=b"")
    if len(value) > max_bytes:
        return Rejection(
            "oversized", f"message of {len(value)} bytes exceeds {max_bytes}", element_bytes=value
        )
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        reason = "non_finite_number" if _mentions_non_finite(value, exc.msg) else "not_json"
        return Rejection(reason, f"not valid JSON ({exc.msg})", element_bytes=value)


def _rejected(
    outcome: Event | Rejection, key: bytes | None, index: int | None, element_bytes: bytes
) -> Rejection:
    """The rejection of one element (``index`` None: the message's only object): its
    own, or a key mismatch for a valid event of another bed."""
    if not isinstance(outcome, Rejection):
        detail = "message has no key" if key is None else "key is not the bed_id"
        outcome = Rejection("key_mismatch", detail)
    prefix = f"element {index}: " if index is not None else ""
    return Rejection(outcome.reason, prefix + outcome.detail, index, element_bytes)


def decode_element(kind: str, element: Any, *, now_ms: int | None = None) -> Event | Rejection:
    """Validate one JSON value as an event of ``kind``."""
    if not isinstance(element, dict):
        return Rejection("not_object", "element is not a JSON object")
    if kind == "arterial":
        sample = plain_arterial(element)
        if sample is not None and (now_ms is None or sample.ts <= now_ms + FUTURE_TOLERANCE_MS):
            return sample
    model = WIRE_MODELS[kind]
    try:
        wire = model.model_validate(element)
    except ValidationError as exc:
        return _rejection_from(exc)
    if now_ms is not None and wire.ts > now_ms + FUTURE_TOLERANCE_MS:
        return Rejection("future_timestamp", "ts is more than 5 minutes ahead of the wall clock")
    event: Event = wire.to_event()  # type: ignore[attr-defined]
    return event


def _rejection_from(exc: ValidationError) -> Rejection:
    error = exc.errors(include_url=False, include_input=False)[0]
    error_type = error["type"]
    where = ".".join(str(part) for part in error["loc"]) or "event"
    if error_type in REASONS:
        reason = error_type
    elif error_type == "missing":
        reason = "missing_field"
    elif error_type == "finite_number":
        reason = "non_finite_number"
    elif error_type == "literal_error" and error["loc"] and error["loc"][0] in _UNIT_FIELDS:
        reason = "unknown_unit"
    elif error_type == "literal_error" and error["loc"] == ("code",):
        reason = "unknown_code"
    elif error_type in _TYPE_ERRORS:
        reason = "wrong_type"
    else:
        reason = "invalid_value"
    return Rejection(reason, f"{where}: {error['msg']}")


def _mentions_non_finite(value: bytes, message: str) -> bool:
    return "infinity" in message or any(token in value for token in (b"NaN", b"Infinity"))
