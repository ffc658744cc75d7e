"""Turning an engine transition into the alert document, with the rule's texts."""

from __future__ import annotations

from typing import Any

from stream_app.domain.alerts import iso_ms
from stream_app.engine.lifecycle import Transition
from stream_app.engine.pack import RulePack


def render_alert(transition: Transition, pack: RulePack, emitted_at_ms: int) -> dict[str, Any]:
    """The JSON-ready alert; ``emitted_at`` is the only field not derived from the data."""
    rule = pack.rules[transition.rule_id]
    return {
        "alert_id": transition.alert_id,
        "bed_id": transition.bed_id,
        "encounter_id": transition.encounter_id,
        "rule_id": transition.rule_id,
        "severity": transition.severity,
        "status": transition.status,
        "notification": transition.notification,
        "title": rule.title,
        "recommendation": rule.recommendation,
        "rationale": rule.rationale,
        "citation": rule.citation,
        "evidence": transition.evidence,
        "started_at": iso_ms(transition.started_ms),
        "event_ts": iso_ms(transition.event_ms),
        "emitted_at": iso_ms(emitted_at_ms),
        "rulepack_version": pack.version,
        "acknowledged_by": transition.acknowledged_by,
    }
