"""Bytes on the wire -> decoded events, or a reason why not.

First slice: JSON objects with a ``bed_id``, a ``ts`` and (arterial) a ``map``.
The contracts issue replaces this with the full validated contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


class DecodeError(Exception):
    """A message that cannot be used; ``reason`` is a code from a fixed list."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Decoded:
    kind: str
    bed_id: str
    ts_ms: int
    body: dict[str, Any]


def decode(kind: str, value: bytes | None) -> list[Decoded]:
    """Decode one message of the given kind into events, or raise ``DecodeError``."""
    if value is None:
        raise DecodeError("empty", "message has no value")
    try:
        obj = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise DecodeError("not_json", f"not valid JSON at position {exc.pos}") from None
    items = obj if isinstance(obj, list) else [obj]
    decoded = []
    for item in items:
        if not isinstance(item, dict):
            raise DecodeError("not_object", "element is not a JSON object")
        bed_id, ts = item.get("bed_id"), item.get("ts")
        if not isinstance(bed_id, str) or not bed_id:
            raise DecodeError("missing_field", "bed_id is missing")
        if not isinstance(ts, int) or isinstance(ts, bool):
            raise DecodeError("missing_field", "ts (epoch milliseconds) is missing")
        if kind == "arterial" and not isinstance(item.get("map"), int | float):
            raise DecodeError("missing_field", "map is missing")
        decoded.append(Decoded(kind, bed_id, ts, item))
    return decoded
