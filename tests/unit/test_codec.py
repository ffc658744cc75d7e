"""The decoder never raises: every input validates or yields a reason from the fixed list."""

from __future__ import annotations

import json
import time
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stream_app.domain.codec import REASONS, Decoded, decode_message

NOW = 1_790_000_000_000
VALID: dict[str, dict[str, Any]] = {
    "arterial": {"bed_id": "b-1", "ts": NOW, "map": 70, "sbp": 110, "dbp": 55, "hr": 88},
    "infusion": {
        "bed_id": "b-1",
        "ts": "2026-09-21T10:00:00+02:00",
        "pump_id": "p1",
        "drug": "Levophed",
        "status": "running",
        "rate": 8,
        "rate_unit": "mL/h",
        "concentration": 16,
        "concentration_unit": "mcg/mL",
        "route": "central",
    },
    "observation": {
        "bed_id": "b-1",
        "ts": NOW,
        "code": "urine_output",
        "value": 40,
        "unit": "mL",
        "period_min": 60,
    },
    "ack": {"bed_id": "b-1", "ts": NOW, "alert_id": "abc123", "by": "rn-4"},
}


def _decode(kind: str, value: bytes, key: bytes | None = b"b-1") -> Decoded:
    return decode_message(kind, value, key=key, check_key=True, now_ms=NOW)


def _accounted(result: Decoded, elements: int) -> None:
    assert len(result.events) + len(result.rejections) >= min(elements, 1)
    for rejection in result.rejections:
        assert rejection.reason in REASONS


@pytest.mark.parametrize("kind", sorted(VALID))
def test_valid_examples_decode(kind: str) -> None:
    """The contract's examples are valid."""
    result = _decode(kind, orjson.dumps(VALID[kind]))
    assert result.rejections == []
    assert len(result.events) == 1


@pytest.mark.parametrize(
    ("kind", "change", "reason"),
    [
        ("arterial", {"map": None}, "wrong_type"),
        ("arterial", {"map": "70"}, "wrong_type"),
        ("arterial", {"map": True}, "wrong_type"),
        ("arterial", {"ts": "2026-01-01T10:00:00"}, "no_timezone"),
        ("arterial", {"ts": NOW + 6 * 60_000}, "future_timestamp"),
        ("arterial", {"bed_id": "bed 1"}, "invalid_value"),
        ("arterial", {"bed_id": "x" * 65}, "invalid_value"),
        ("infusion", {"rate": -1}, "negative_rate"),
        ("infusion", {"rate_unit": "mcg/hr"}, "unknown_unit"),
        ("infusion", {"concentration_unit": "g/L"}, "unknown_unit"),
        ("infusion", {"drug": "Vasostrict"}, "unit_mismatch"),
        ("infusion", {"rate": None}, "missing_field"),
        ("infusion", {"concentration": None}, "missing_field"),
        ("infusion", {"status": "bolus"}, "invalid_value"),
        ("observation", {"unit": "L"}, "unit_mismatch"),
        ("observation", {"code": "sodium"}, "unknown_code"),
        ("observation", {"period_min": None}, "missing_field"),
        ("ack", {"alert_id": None}, "wrong_type"),
    ],
)
def test_broken_fields_have_their_reason(kind: str, change: dict[str, Any], reason: str) -> None:
    """Each kind of breakage maps to its reason code."""
    body = {**VALID[kind], **change}
    body = {k: v for k, v in body.items() if v is not None or k in ("map", "alert_id")}
    result = _decode(kind, orjson.dumps(body))
    assert [r.reason for r in result.rejections] == [reason]
    assert result.events == []


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b"not json", "not_json"),
        (b'{"bed_id": "b-1", "ts": 1, "map": NaN}', "non_finite_number"),
        (b'{"bed_id": "b-1", "ts": 1790000000000, "map": 1e999}', "non_finite_number"),
        (b"[]", "not_object"),
        (b'"text"', "not_object"),
        (b"x" * 300_000, "oversized"),
    ],
)
def test_unusable_messages(raw: bytes, reason: str) -> None:
    """Whole-message failures carry the original bytes and a reason."""
    result = _decode("arterial", raw)
    assert [r.reason for r in result.rejections] == [reason]
    assert result.rejections[0].element_bytes == raw


def test_missing_time_zone_and_unparseable_time_differ() -> None:
    """A zone-less time is 'no_timezone', not just 'invalid'."""
    assert (
        _decode("arterial", orjson.dumps({**VALID["arterial"], "ts": "yesterday"}))
        .rejections[0]
        .reason
        == "invalid_value"
    )


def test_batch_keeps_valid_siblings() -> None:
    """One bad element of a batched message is rejected alone."""
    good = VALID["arterial"]
    batch = [good, {**good, "map": "x"}, {**good, "ts": NOW + 1000}]
    result = _decode("arterial", orjson.dumps(batch))
    assert len(result.events) == 2
    assert [(r.reason, r.element) for r in result.rejections] == [("wrong_type", 1)]
    assert orjson.loads(result.rejections[0].element_bytes or b"") == batch[1]


def test_key_must_be_the_bed_id() -> None:
    """A key that is not the element's bed id would break co-partitioning."""
    body = orjson.dumps(VALID["arterial"])
    assert _decode("arterial", body, key=b"other").rejections[0].reason == "key_mismatch"
    assert _decode("arterial", body, key=None).rejections[0].reason == "key_mismatch"


def test_details_never_echo_payload_values() -> None:
    """A stray patient name in a broken field does not reach the rejection detail."""
    body = {**VALID["infusion"], "rate_unit": "Jane Doe MRN 1234567"}
    detail = _decode("infusion", orjson.dumps(body)).rejections[0].detail
    assert "Jane" not in detail
    assert "1234567" not in detail


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(VALID)), st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(kind: str, raw: bytes) -> None:
    """Any bytes: validated or rejected with a known reason."""
    _accounted(_decode(kind, raw), 1)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(VALID)), json_values)
def test_arbitrary_json_never_raises(kind: str, value: Any) -> None:
    """Any JSON value: validated or rejected with a known reason."""
    _accounted(_decode(kind, json.dumps(value).encode()), 1)


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(sorted(VALID)),
    st.data(),
)
def test_mutated_valid_events_never_raise(kind: str, data: st.DataObject) -> None:
    """Valid events with a field replaced, removed or added: validated or rejected, never raised."""
    body = dict(VALID[kind])
    field = data.draw(st.sampled_from([*body, "extra"]))
    action = data.draw(st.sampled_from(["replace", "remove"]))
    if action == "remove":
        body.pop(field, None)
    else:
        body[field] = data.draw(json_values)
    result = _decode(kind, json.dumps(body).encode())
    _accounted(result, 1)
    assert len(result.events) + len(result.rejections) == 1


def test_wall_clock_future_check_is_optional() -> None:
    """Replay (now_ms=None) does not judge timestamps against the wall clock."""
    future = orjson.dumps({**VALID["arterial"], "ts": int(time.time() * 1000) + 3_600_000})
    assert decode_message("arterial", future).events


# -- the plain arterial path must agree with the model wherever it answers ----------------

_ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["b-1", "bed 1", "", "x" * 65, "é", "2026-09-21T10:00:00Z", "70"]),
    st.lists(st.integers(), max_size=2),
)
_ARTERIAL_FIELDS = ("bed_id", "ts", "encounter_id", "map", "sbp", "dbp", "hr")


@settings(max_examples=600, deadline=None)
@given(
    base=st.fixed_dictionaries(
        {
            "bed_id": st.sampled_from(["b-1", "icu.3:12", "bed 1", "", "x" * 65]),
            "ts": st.one_of(st.integers(min_value=0, max_value=2**62), st.just(NOW)),
            "map": st.one_of(st.floats(), st.integers(min_value=-(2**60), max_value=2**60)),
        }
    ),
    extra=st.dictionaries(st.sampled_from((*_ARTERIAL_FIELDS, "kind", "other")), _ANY_VALUE),
)
def test_plain_arterial_answers_only_what_the_model_would(
    base: dict[str, Any], extra: dict[str, Any]
) -> None:
    from stream_app.domain.events import ArterialWire
    from stream_app.domain.plain import plain_arterial

    element = {**base, **extra}
    plain = plain_arterial(element)
    if plain is None:
        return
    assert plain == ArterialWire.model_validate(element).to_event()
    assert all(type(v) is float for v in (plain.map, plain.sbp, plain.dbp, plain.hr) if v)


def test_plain_arterial_takes_the_usual_sample_and_refuses_what_needs_a_reason() -> None:
    from stream_app.domain.codec import Rejection, decode_element
    from stream_app.domain.plain import plain_arterial

    usual = {"bed_id": "b-1", "ts": NOW, "map": 70.5, "hr": 88, "encounter_id": "e-9"}
    assert plain_arterial(usual) is not None
    for broken, reason in (
        ({**usual, "ts": "2026-09-21T10:00:00"}, "no_timezone"),
        ({**usual, "map": True}, "wrong_type"),
        ({**usual, "hr": "88"}, "wrong_type"),
        ({**usual, "bed_id": "bed 1"}, "invalid_value"),
        ({**usual, "map": float("inf")}, "non_finite_number"),  # a dict built in Python
        ({**usual, "sbp": float("nan")}, "non_finite_number"),
    ):
        assert plain_arterial(broken) is None
        outcome = decode_element("arterial", broken)
        assert isinstance(outcome, Rejection)
        assert outcome.reason == reason
    # Still checked against the wall clock when live.
    future = decode_element("arterial", usual, now_ms=NOW - 3_600_000)
    assert isinstance(future, Rejection)
    assert future.reason == "future_timestamp"


# -- the live worker's fast path must agree with decode_message wherever it answers -------


@settings(max_examples=600, deadline=None)
@given(
    element=st.fixed_dictionaries(
        {
            "bed_id": st.sampled_from(["b-1", "b-2", "bed 1"]),
            "ts": st.sampled_from([NOW, NOW + 4 * 60_000, NOW + 6 * 60_000, 0]),
            "map": st.one_of(st.floats(), st.integers(min_value=-(2**60), max_value=2**60)),
        }
    ),
    extra=st.dictionaries(st.sampled_from((*_ARTERIAL_FIELDS, "kind", "other")), _ANY_VALUE),
    shape=st.sampled_from(["object", "array", "truncated", "empty"]),
    kind=st.sampled_from(["arterial", "arterial", "infusion"]),
    key=st.sampled_from([b"b-1", b"b-2", None]),
    max_bytes=st.sampled_from([65_536, 40]),
)
def test_decode_plain_answers_only_what_decode_message_would(
    element: dict[str, Any],
    extra: dict[str, Any],
    shape: str,
    kind: str,
    key: bytes | None,
    max_bytes: int,
) -> None:
    from stream_app.domain.codec import decode_plain

    body = json.dumps({**element, **extra}).encode()  # NaN and huge integers too
    value = {
        "object": body,
        "array": b"[" + body + b"]",
        "truncated": body[:-1],
        "empty": b"",
    }[shape]
    plain = decode_plain(kind, value, key, NOW, max_bytes)
    if plain is None:
        return
    full = decode_message(kind, value, key=key, check_key=True, now_ms=NOW, max_bytes=max_bytes)
    assert full.rejections == []
    assert full.events == [plain]


def test_decode_plain_takes_the_usual_sample_and_leaves_the_rest() -> None:
    from stream_app.domain.codec import decode_plain

    usual = orjson.dumps({"bed_id": "b-1", "ts": NOW, "map": 70.5, "hr": 88})
    assert decode_plain("arterial", usual, b"b-1", NOW, 65_536) is not None
    for kind, value, key in (
        ("arterial", usual, b"b-2"),  # another bed's key: a key mismatch to dead-letter
        ("arterial", usual, None),
        ("arterial", b"[" + usual + b"]", b"b-1"),  # batched: element by element
        ("arterial", usual[:-1], b"b-1"),
        ("infusion", usual, b"b-1"),
    ):
        assert decode_plain(kind, value, key, NOW, 65_536) is None
    assert decode_plain("arterial", usual, b"b-1", NOW - 3_600_000, 65_536) is None  # future
    assert decode_plain("arterial", usual, b"b-1", NOW, len(usual) - 1) is None  # oversized
