"""Perfusion markers: lactate trend and urine output, from observations kept in state."""

from __future__ import annotations

from dataclasses import dataclass

from stream_app.engine.state import BedState

MINUTE_MS = 60_000


@dataclass(slots=True)  # not frozen: built per evaluation (frozen costs 4x); never changed
class LactateTrend:
    latest: float
    latest_ms: int
    previous: float | None  # the result before it, when within the comparison window

    @property
    def change(self) -> float | None:
        """Relative change from the previous result (+0.1 = rose by 10%)."""
        if self.previous is None or self.previous == 0:
            return None
        return (self.latest - self.previous) / self.previous


def lactate_trend(state: BedState, now: int, within_ms: int) -> LactateTrend | None:
    """The latest lactate (if taken within ``within_ms``) and the one before it in that span."""
    if not state.lactates:
        return None
    latest_ts, latest = state.lactates[-1]
    if now - latest_ts > within_ms:
        return None
    previous = None
    if len(state.lactates) >= 2:
        prev_ts, prev = state.lactates[-2]
        if latest_ts - prev_ts <= within_ms:
            previous = prev
    return LactateTrend(latest, int(latest_ts), previous)


@dataclass(slots=True)  # likewise
class UrineRate:
    ml_per_kg_h: float
    covered_min: float


def urine_rate(state: BedState, now: int, window_min: float, weight_kg: float) -> UrineRate | None:
    """Urine output over the trailing window, from collection periods that fall in it.

    A period is counted in proportion to its overlap with the window; None when
    nothing was recorded in it.
    """
    start = now - window_min * MINUTE_MS
    volume = 0.0
    covered = 0.0
    for end_ts, ml, period_min in state.urine:
        begin = end_ts - period_min * MINUTE_MS
        overlap = min(end_ts, now) - max(begin, start)
        if overlap <= 0:
            continue
        share = overlap / (period_min * MINUTE_MS)
        volume += ml * share
        covered += overlap / MINUTE_MS
    if covered == 0:
        return None
    return UrineRate(round(volume / weight_kg / (covered / 60), 3), round(covered, 1))
