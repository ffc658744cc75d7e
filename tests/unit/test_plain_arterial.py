"""The bytes fast path of the usual arterial sample must agree, byte for byte, with
orjson's parse and the model wherever it answers, and must answer for the samples
our own producers send (or the worker silently loses its speed)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stream_app.domain.codec import decode_message
from stream_app.domain.events import ArterialWire
from stream_app.domain.plain import plain_arterial_json

NOW = 1_790_000_000_000
ROOT = Path(__file__).resolve().parents[2]

# Bytes where two JSON parsers, or a parser and a skipper, are known to answer apart.
_ODD = [
    b"\xff",
    b"\xc3\xa9",  # valid UTF-8, not ASCII
    b"\\ud800",
    b"\\u00e9",
    b"\\u0000",
    b"\\q",
    b"1e400",
    b"-1e400",
    b"1E2",
    b"-0",
    b"01",
    b".5",
    b"1.",
    b"NaN",
    b"Infinity",
    b"\x00",
    b"\x01",
    b"\t",
    b"\x0b",
    b"\x0c",
    b"\r\n",
    b"\xef\xbb\xbf",
    b" ",
    b'"',
    b",",
    b":",
    b"{",
    b"}",
    b"[",
    b"]",
    b"null",
    b"true",
    b"9007199254740993",
    b"18446744073709551616",
]
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["b-1", "bed 1", "", "x" * 65, "é", "arterial", "cuff", "70"]),
)
_FIELDS = ("bed_id", "ts", "encounter_id", "map", "sbp", "dbp", "hr", "kind", "source", "x")


def _by_the_model(value: bytes) -> Any:
    """What orjson and the model make of a message: the event, or None if either refuses."""
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if type(parsed) is not dict:
        return None
    try:
        return ArterialWire.model_validate(parsed).to_event()
    except ValueError:  # pydantic's ValidationError
        return None


@settings(max_examples=3000, deadline=None)
@given(
    element=st.fixed_dictionaries(
        {
            "bed_id": st.sampled_from(["b-1", "icu.3:12", "bed 1"]),
            "ts": st.sampled_from([NOW, 946_684_800_000, 4_102_444_799_999])
            | st.integers(min_value=-(2**63), max_value=2**64),
            "map": st.one_of(st.floats(), st.integers(min_value=-(2**60), max_value=2**60)),
        }
    ),
    extra=st.dictionaries(st.sampled_from(_FIELDS), _VALUES, max_size=4),
    at=st.integers(min_value=0, max_value=400),
    change=st.sampled_from(["none", "none", "insert", "replace", "cut"]),
    odd=st.sampled_from(_ODD) | st.binary(min_size=1, max_size=3),
)
def test_answers_only_what_orjson_and_the_model_would(
    element: dict[str, Any], extra: dict[str, Any], at: int, change: str, odd: bytes
) -> None:
    body = json.dumps({**element, **extra}).encode()  # NaN, huge integers and floats too
    at = min(at, len(body))
    value = {
        "none": body,
        "insert": body[:at] + odd + body[at:],
        "replace": body[:at] + odd + body[at + len(odd) :],
        "cut": body[:at],
    }[change]
    plain = plain_arterial_json(value)
    if plain is None:
        return
    assert plain == _by_the_model(value)
    assert all(type(v) is float for v in (plain.map, plain.sbp, plain.dbp, plain.hr) if v)


@pytest.mark.parametrize(
    "value",
    [
        b'{"bed_id": "b-1", "ts": 1790000000000, "map": 70, "x": "\xff"}',  # not UTF-8
        b'{"bed_id": "b-1", "ts": 1790000000000, "map": 70, "x": 1e400}',  # a float beyond range
        b'{"bed_id": "b-1", "ts": 1790000000000, "map": 70, "kind": "\xff"}',
        b'{"bed_id": "b-1", "ts": 1790000000000, "map": 1e400}',
        b'{"bed_id": "b-1", "ts": 1790000000000, "map": NaN}',
        b'\xef\xbb\xbf{"bed_id": "b-1", "ts": 1790000000000, "map": 70}',
        b'{"bed_id": "b-1", "ts": 1790000000000, "map": 70} x',
    ],
)
def test_leaves_to_the_model_what_msgspec_would_let_through_or_judge_apart(value: bytes) -> None:
    """msgspec skips an ignored field's value with fewer checks than orjson parses it:
    such a message must not pass the fast path into the engine while the general path
    dead-letters it (replay and the live worker would then disagree)."""
    assert plain_arterial_json(value) is None
    assert decode_message("arterial", value).rejections


@pytest.mark.parametrize(
    "sample",
    [
        {"kind": "arterial", "bed_id": "bench-00001", "ts": NOW, "map": 65.8, "hr": 95},  # bench
        {  # the simulator
            "kind": "arterial",
            "bed_id": "sim-1",
            "encounter_id": "enc-1",
            "ts": NOW,
            "map": 64.2,
            "sbp": 91.5,
            "dbp": 50.5,
            "hr": 101,
        },
        {  # the eICU importer's cuff pressure
            "kind": "arterial",
            "bed_id": "141765",
            "encounter_id": "141765",
            "ts": NOW,
            "map": 71,
            "source": "cuff",
            "sbp": 98,
            "dbp": 57,
        },
        {"bed_id": "b-1", "ts": NOW, "map": 70.5},  # the contract's minimum
    ],
)
def test_takes_what_our_own_producers_send(sample: dict[str, Any]) -> None:
    value = orjson.dumps(sample)
    plain = plain_arterial_json(value)
    assert plain is not None
    assert plain == _by_the_model(value)


def test_replay_takes_only_lines_that_say_arterial() -> None:
    from stream_app.engine.engine import Engine
    from stream_app.engine.registry import load_rule_pack
    from stream_app.replay import replay

    sample = {"bed_id": "b-1", "ts": NOW, "map": 70.5}
    assert plain_arterial_json(orjson.dumps(sample), kind="arterial") is None  # no kind
    infusion = orjson.dumps({**sample, "kind": "infusion"})
    assert plain_arterial_json(infusion, kind="arterial") is None
    lines = [
        orjson.dumps({**sample, "kind": "arterial"}),
        orjson.dumps({**sample, "kind": "infusion"}),  # not a pump update: invalid
        orjson.dumps(sample),  # no kind: invalid
    ]
    err = io.StringIO()
    summary = replay(lines, Engine(load_rule_pack(ROOT / "rules")), io.BytesIO(), err)
    assert (summary.events, summary.invalid) == (1, 2)
    assert "line 2: missing_field" in err.getvalue()
    assert "line 3: invalid_value: kind must be" in err.getvalue()
