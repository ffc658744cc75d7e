"""The alert document on ``icu.alerts`` (key: bed id), as nurse-station displays read it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class Alert(BaseModel):
    """One alert transition. De-duplicate on (``alert_id``, ``status``, ``notification``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alert_id: str
    bed_id: str
    encounter_id: str | None
    rule_id: str
    severity: Literal["high", "medium", "low"]
    status: Literal["firing", "acknowledged", "resolved"]
    notification: int
    title: str
    recommendation: str
    rationale: str
    citation: str
    evidence: dict[str, Any]
    started_at: str
    event_ts: str
    emitted_at: str
    rulepack_version: str
    acknowledged_by: str | None = None


def iso_ms(epoch_ms: int) -> str:
    """RFC 3339 UTC with milliseconds, e.g. ``2026-11-24T20:01:02.345Z``."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"
