"""What the rules see at one evaluation: the bed's state, event time and derived numbers.

Doses are summed over running pumps of the same drug and given in canonical
units both per minute and per kg per minute (through the bed's latest known
weight, or the pack's default weight, flagged as ``weight_assumed``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stream_app.domain.drugs import (
    DOPAMINE,
    EPINEPHRINE,
    NOREPINEPHRINE,
    PHENYLEPHRINE,
    VASOPRESSIN,
    VASOPRESSORS,
    Drug,
)
from stream_app.domain.events import Event
from stream_app.engine.pack import RulePack
from stream_app.engine.state import BedState
from stream_app.engine.windows import (
    Thresholds,
    WindowStats,
    current_totals,
    slide,
    totals,
    window_stats,
)

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
ANY_VASOPRESSOR = "running:any_vasopressor"
# Suffixes of the timer entries that remember a break until event time moves on.
BROKEN_AT, BROKEN_START = "~broken_at", "~broken_start"


@dataclass(slots=True)  # not frozen: built per drug per evaluation; nothing mutates one
class Dose:
    per_min: float = 0.0  # mcg/min, or units/min for vasopressin
    per_kg_min: float = 0.0  # mcg/kg/min (0 for vasopressin)

    @property
    def running(self) -> bool:
        return self.per_min > 0


_NO_DOSE = Dose()
_DRUGS = {drug.value: drug for drug in Drug}
# The held-timer name of each drug's run (``.value`` of a 3.11 enum is a Python-level call).
RUNNING_TIMER = {drug: f"running:{drug.value}" for drug in Drug}


@dataclass(slots=True)
class Finding:
    """A rule's condition holds: the numbers that decided it, and optional overrides."""

    evidence: dict[str, object]
    start_ms: int | None = None  # when the condition was met, if earlier than now
    severity: str | None = None


@dataclass(frozen=True, slots=True)
class Derived:
    """What a context derives from the bed's pumps and weight (read, never changed, by
    the rules): the engine keeps it per bed until a pump or the weight changes."""

    weight: tuple[float, bool]  # (kg, assumed)
    doses: dict[Drug, Dose]
    vasopressors_running: list[Drug]
    ne_equivalent: float  # mcg/kg/min
    peripheral_vasopressors: tuple[str, ...]  # running through a peripheral line, sorted


def derived_key(state: BedState) -> tuple[object, ...]:
    """Everything ``Derived`` is computed from (the pumps in their order: doses are
    summed in it). Compared with ``==``: unchanged pumps are the same objects."""
    return (state.weight_kg, *state.pumps.values())


@dataclass(slots=True)
class Context:
    state: BedState
    pack: RulePack
    now: int
    event: Event | None
    thresholds: Thresholds
    # Totals of closed buckets per window, memoised by the engine across evaluations:
    # window ms -> (newest bucket index, buckets revision, totals before that bucket).
    closed_cache: dict[int, tuple[int, int, list[int]]] | None = None
    # The engine's memo of what the pumps and weight give (None: derived here).
    derived: Derived | None = None
    _windows: dict[int, WindowStats] = field(default_factory=dict)
    _current: list[int] | None = None  # totals of the bucket ``now`` falls in
    # Derived once per evaluation: every evaluation reads them, and most rules do.
    weight: tuple[float, bool] = field(init=False)  # (kg, assumed)
    doses: dict[Drug, Dose] = field(init=False)
    vasopressors_running: list[Drug] = field(init=False)
    ne_equivalent: float = field(init=False)  # mcg/kg/min
    peripheral_vasopressors: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        derived = self.derived
        if derived is None:
            if self.state.weight_kg is not None:
                self.weight = (self.state.weight_kg, False)
            else:
                self.weight = (self.pack.settings.default_weight_kg, True)
            self.doses = self._doses()
            self.vasopressors_running = sorted(
                d for d, dose in self.doses.items() if d in VASOPRESSORS and dose.running
            )
            self.ne_equivalent = self._ne_equivalent()
            self.peripheral_vasopressors = tuple(
                sorted(
                    {
                        pump.drug
                        for pump in self.state.pumps.values()
                        if pump.running and pump.route == "peripheral" and pump.drug in VASOPRESSORS
                    }
                )
            )
            self.derived = Derived(
                self.weight,
                self.doses,
                self.vasopressors_running,
                self.ne_equivalent,
                self.peripheral_vasopressors,
            )
        else:
            self.weight, self.doses = derived.weight, derived.doses
            self.vasopressors_running = derived.vasopressors_running
            self.ne_equivalent = derived.ne_equivalent
            self.peripheral_vasopressors = derived.peripheral_vasopressors

    # -- weight and doses -------------------------------------------------
    def _doses(self) -> dict[Drug, Dose]:
        totals: dict[Drug, list[float]] = {}
        for pump in self.state.pumps.values():
            if not pump.running or pump.drug is None:
                continue
            drug = _DRUGS[pump.drug]
            weight = pump.weight_kg or self.weight[0]
            total = totals.setdefault(drug, [0.0, 0.0])
            if drug is VASOPRESSIN:
                total[0] += pump.amount_per_min
            elif pump.per_kg:
                total[0] += pump.amount_per_min * weight
                total[1] += pump.amount_per_min
            else:
                total[0] += pump.amount_per_min
                total[1] += pump.amount_per_min / weight
        return {drug: Dose(round(a, 6), round(b, 6)) for drug, (a, b) in totals.items()}

    def dose(self, drug: Drug) -> Dose:
        return self.doses.get(drug, _NO_DOSE)

    def running(self, drug: Drug) -> bool:
        dose = self.doses.get(drug)
        return dose is not None and dose.per_min > 0

    def _ne_equivalent(self) -> float:
        doses = self.doses
        if not doses:
            return 0.0
        w = self.pack.settings.ne_equivalent
        # Summed in this fixed order; a drug not running adds exactly nothing.
        total = 0.0
        if (dose := doses.get(NOREPINEPHRINE)) is not None:
            total += dose.per_kg_min
        if (dose := doses.get(EPINEPHRINE)) is not None:
            total += w.epinephrine * dose.per_kg_min
        if (dose := doses.get(PHENYLEPHRINE)) is not None:
            total += w.phenylephrine * dose.per_kg_min
        if (dose := doses.get(DOPAMINE)) is not None:
            total += w.dopamine * dose.per_kg_min
        if (dose := doses.get(VASOPRESSIN)) is not None:
            total += w.vasopressin_per_unit_min * dose.per_min
        return round(total, 4)

    def weight_evidence(self) -> dict[str, object]:
        kg, assumed = self.weight
        return {"weight_kg": kg, "weight_assumed": assumed}

    # -- timers -----------------------------------------------------------
    def held(self, name: str, condition: bool, hold_ms: int) -> int | None:
        """Track how long ``condition`` has held; the time it reached ``hold_ms``, else None.

        A break counts only once event time moves on: a condition that is false and
        true again within one instant (a pump stopped and another started in the same
        minute, as a bag or order change is charted) keeps its original start.
        """
        since = self.state.since
        started = since.get(name)
        if condition and started is not None:  # still holding (a break marker never coexists)
            return started + hold_ms if self.now >= started + hold_ms else None
        broken_at = since.get(name + BROKEN_AT)
        if not condition:
            started = since.pop(name, None)
            if started is not None:
                since[name + BROKEN_AT], since[name + BROKEN_START] = self.now, started
            elif broken_at is not None and broken_at != self.now:
                del since[name + BROKEN_AT], since[name + BROKEN_START]
            return None
        if name not in since:
            resumed = broken_at == self.now
            since[name] = since[name + BROKEN_START] if resumed else self.now
        if broken_at is not None:
            del since[name + BROKEN_AT], since[name + BROKEN_START]
        started = since[name]
        return started + hold_ms if self.now >= started + hold_ms else None

    def running_since(self, drug: Drug) -> int | None:
        """Event time since which ``drug`` has run without a break (None: not running)."""
        return self.state.since.get(RUNNING_TIMER[drug]) if self.running(drug) else None

    @property
    def since_any_vasopressor(self) -> int | None:
        """Event time since which at least one vasopressor has run without a break."""
        if not self.vasopressors_running:
            return None
        return self.state.since.get(ANY_VASOPRESSOR)

    def ran_throughout(self, drug: Drug, window_ms: int) -> bool:
        since = self.running_since(drug)
        return since is not None and since <= self.now - window_ms

    # -- arterial windows -------------------------------------------------
    def window(self, minutes: float) -> WindowStats:
        window_ms = int(minutes * MINUTE_MS)
        stats = self._windows.get(window_ms)
        if stats is None:
            buckets, bucket_ms = self.state.buckets, self.thresholds.bucket_ms
            last = self.now // bucket_ms
            if self._current is None:
                self._current = current_totals(buckets, last)
            closed = None if self.closed_cache is None else self._closed(window_ms, last)
            stats = window_stats(buckets, self.now, window_ms, bucket_ms, closed, self._current)
            self._windows[window_ms] = stats
        return stats

    def _closed(self, window_ms: int, last: int) -> list[int]:
        """Totals of the window's buckets before bucket ``last``, from the memo when it can.

        When event time entered the next bucket since the memo was made, the window slid
        by one bucket: add the one that closed, drop the one that left (integer sums, so
        exactly what summing them all again gives). The bucket that left is still kept,
        since buckets are pruned only past the longest window. Any sample that landed in
        an older bucket raised the revision, and then everything is summed again.
        """
        cache = self.closed_cache
        assert cache is not None
        buckets, revision = self.state.buckets, self.state.buckets_revision
        span = max(1, window_ms // self.thresholds.bucket_ms)
        memo = cache.get(window_ms)
        if memo is not None and memo[1] == revision:
            if memo[0] == last:
                return memo[2]
            if memo[0] == last - 1:
                closed = slide(buckets, memo[2], last - 1, last - span)
                cache[window_ms] = (last, revision, closed)
                return closed
        closed = totals(buckets, last - span + 1, last - 1)
        cache[window_ms] = (last, revision, closed)
        return closed

    def map_low(self, minutes: float) -> WindowStats | None:
        """The window's stats when MAP was mostly below target over it, with enough data."""
        m = self.pack.settings.map
        stats = self.window(minutes)
        ok = stats.covered(m.coverage_fraction) and stats.fraction_low > m.mostly_fraction
        return stats if ok else None

    def map_high(self, minutes: float) -> WindowStats | None:
        m = self.pack.settings.map
        stats = self.window(minutes)
        ok = stats.covered(m.coverage_fraction) and stats.fraction_high > m.mostly_fraction
        return stats if ok else None

    def map_adequate(self, minutes: float) -> WindowStats | None:
        """MAP mostly at or above target over the window, with enough data."""
        m = self.pack.settings.map
        stats = self.window(minutes)
        ok = stats.covered(m.coverage_fraction) and stats.fraction_low <= m.mostly_fraction
        return stats if ok else None


def map_evidence(stats: WindowStats) -> dict[str, object]:
    return {
        "map_window_min": stats.window_ms / MINUTE_MS,
        "map_mean_mmhg": stats.mean_map,
        "map_fraction_below_target": round(stats.fraction_low, 3),
        "map_fraction_above_supranormal": round(stats.fraction_high, 3),
        "map_window_coverage": round(stats.coverage, 3),
    }
