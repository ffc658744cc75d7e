"""Alert lifecycle: one episode per (bed, rule), re-notification, acknowledgement, hysteresis.

Every transition's event time is derived from the data (episode start, start +
k x interval, condition false since + hysteresis), never from when it happened
to be noticed, so a live worker and a replay produce the same transitions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from stream_app.engine.context import Finding
from stream_app.engine.pack import RulePack
from stream_app.engine.state import BedState, Episode

FIRING = "firing"
RESOLVED = "resolved"
ACKNOWLEDGED = "acknowledged"


@dataclass(frozen=True, slots=True)
class Transition:
    alert_id: str
    bed_id: str
    encounter_id: str | None
    rule_id: str
    severity: str
    status: str
    notification: int
    started_ms: int
    event_ms: int
    evidence: dict[str, Any] = field(default_factory=dict)
    acknowledged_by: str | None = None


def alert_id(bed_id: str, rule_id: str, encounter_id: str | None, started_ms: int) -> str:
    """Stable for the episode, so a consumer can de-duplicate re-sent transitions."""
    text = f"{bed_id}|{rule_id}|{encounter_id or '-'}|{started_ms}"
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def _transition(state: BedState, rule_id: str, ep: Episode, status: str, at: int) -> Transition:
    return Transition(
        ep.alert_id,
        state.bed_id,
        state.encounter_id,
        rule_id,
        ep.severity,
        status,
        ep.notification,
        ep.started_ms,
        at,
        dict(ep.evidence),
        ep.acked_by,
    )


def step(
    state: BedState,
    rule_id: str,
    severity: str,
    finding: Finding | None,
    now: int,
    pack: RulePack,
) -> list[Transition]:
    """Advance one rule's episode on one bed given whether its condition holds now."""
    episode = state.episodes.get(rule_id)
    if finding is not None:
        if episode is None:
            start = min(finding.start_ms if finding.start_ms is not None else now, now)
            episode = Episode(
                alert_id(state.bed_id, rule_id, state.encounter_id, start),
                finding.severity or severity,
                start,
                evidence=finding.evidence,
            )
            state.episodes[rule_id] = episode
            return [_transition(state, rule_id, episode, FIRING, start)]
        episode.false_since_ms = None
        episode.evidence = finding.evidence
        return renotify(state, rule_id, episode, now, pack)
    if episode is None:
        return []
    if episode.false_since_ms is None:
        episode.false_since_ms = now
    return expire(state, rule_id, episode, now, pack)


def renotify(
    state: BedState, rule_id: str, episode: Episode, now: int, pack: RulePack
) -> list[Transition]:
    """Raise the notification count when the severity's interval has passed (not if acked)."""
    interval = pack.settings.renotify.interval_ms(episode.severity)  # type: ignore[arg-type]
    if episode.acked or interval is None or episode.false_since_ms is not None:
        return []
    due = 1 + (now - episode.started_ms) // interval
    if due <= episode.notification:
        return []
    episode.notification = due
    at = episode.started_ms + (due - 1) * interval
    return [_transition(state, rule_id, episode, FIRING, at)]


def expire(
    state: BedState, rule_id: str, episode: Episode, now: int, pack: RulePack
) -> list[Transition]:
    """Resolve an episode whose condition has been false for the hysteresis period."""
    if episode.false_since_ms is None:
        return []
    resolve_at = episode.false_since_ms + int(pack.settings.hysteresis_min * 60_000)
    if now < resolve_at:
        return []
    del state.episodes[rule_id]
    return [_transition(state, rule_id, episode, RESOLVED, resolve_at)]


def resolve_all(state: BedState, at: int) -> list[Transition]:
    """Close every open episode at once (a new encounter on the bed)."""
    out = [_transition(state, rid, ep, RESOLVED, at) for rid, ep in state.episodes.items()]
    state.episodes.clear()
    return out


def acknowledge(state: BedState, alert_id_: str, by: str | None, at: int) -> list[Transition]:
    for rule_id, episode in state.episodes.items():
        if episode.alert_id == alert_id_ and not episode.acked:
            episode.acked = True
            episode.acked_by = by
            return [_transition(state, rule_id, episode, ACKNOWLEDGED, at)]
    return []
