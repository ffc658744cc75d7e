"""Only bed and encounter ids identify anything: a name or record number smuggled into
any field of any message never comes back in a dead letter's reason or detail, and the
web endpoints listen on loopback unless told otherwise."""

from __future__ import annotations

import orjson
import pytest

from stream_app.domain.codec import decode_message
from stream_app.settings import Settings

TS = 1_772_352_000_000
SECRET = "Zyxwvut Quuxington MRN-99887766"
VALID = {
    "arterial": {"bed_id": "b1", "ts": TS, "map": 70, "sbp": 100, "dbp": 50, "hr": 90},
    "infusion": {
        "bed_id": "b1",
        "ts": TS,
        "pump_id": "p1",
        "drug": "norepinephrine",
        "status": "running",
        "rate": 5,
        "rate_unit": "mcg/min",
        "concentration": 16,
        "concentration_unit": "mcg/mL",
        "weight_kg": 80,
        "route": "central",
    },
    "observation": {
        "bed_id": "b1",
        "ts": TS,
        "code": "urine_output",
        "value": 40,
        "unit": "mL",
        "period_min": 60,
    },
    "ack": {"bed_id": "b1", "ts": TS, "alert_id": "a1", "by": "rn-7"},
}
CASES = [(kind, field) for kind, fields in VALID.items() for field in [*fields, "patient_name"]]


@pytest.mark.parametrize(("kind", "field"), CASES, ids=str)
def test_a_smuggled_identifier_is_never_echoed(kind: str, field: str) -> None:
    for value in (SECRET, [SECRET], {"name": SECRET}):
        message = {**VALID[kind], field: value, "encounter_id": "enc-1"}
        decoded = decode_message(
            kind,
            orjson.dumps(message),
            key=b"b1",
            check_key=True,
            now_ms=TS + 1000,
            max_bytes=1 << 20,
        )
        for rejection in decoded.rejections:
            assert "Zyxwvut" not in rejection.detail
            assert "99887766" not in rejection.detail
            assert "Zyxwvut" not in rejection.reason


def test_endpoints_listen_on_loopback_by_default() -> None:
    settings = Settings()
    assert settings.web_host == "127.0.0.1"
    assert settings.board_host == "127.0.0.1"
    assert settings.board_users is None  # read-only until users are configured
