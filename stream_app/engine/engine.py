"""The engine: per-bed state in, one event or clock tick in, new state and transitions out.

Pure and deterministic: no I/O, no wall clock. A bed's clock is the newest event
time seen for it; every rule is evaluated at that time after each event. Clock
ticks evaluate only time-only rules and the lifecycle timers (re-notification,
hysteresis), whose transition times are derived from the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stream_app.domain.codec import Rejection
from stream_app.domain.drugs import EPINEPHRINE, Drug
from stream_app.domain.events import (
    Acknowledgement,
    ArterialSample,
    Event,
    Observation,
    PumpUpdate,
)
from stream_app.engine import lifecycle
from stream_app.engine.context import (
    ANY_VASOPRESSOR,
    BROKEN_AT,
    HOUR_MS,
    MINUTE_MS,
    RUNNING_TIMER,
    Context,
    Derived,
    derived_key,
)
from stream_app.engine.lifecycle import Transition
from stream_app.engine.pack import Rule, RulePack
from stream_app.engine.registry import RULES
from stream_app.engine.rules import RuleDef
from stream_app.engine.state import MAX_RECENT_DIGESTS, BedState
from stream_app.engine.updates import apply_observation, apply_pump, digest
from stream_app.engine.windows import Thresholds, add_sample, prune

# A rule, its spec, the drugs it needs and its timers' keys (break markers included).
_Gated = tuple[RuleDef, Rule, frozenset[Drug], frozenset[str]]
# Per set of running drugs: the rules due, and the ids and timer keys of the others.
_Plan = tuple[list[_Gated], frozenset[str], frozenset[str]]


@dataclass(slots=True)
class Step:
    """What one event or tick did to a bed."""

    state: BedState
    transitions: list[Transition] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # counted by the caller: artifact:..., late
    rejection: Rejection | None = None  # the event must be dead-lettered (late)


class Engine:
    in_order_path = True  # tests turn it off to compare with the general path
    skip_idle_rules = True  # likewise (see ``RuleDef.needs``)

    def __init__(self, pack: RulePack, rules: tuple[RuleDef, ...] = RULES) -> None:
        self.pack = pack
        s = pack.settings
        self.thresholds = Thresholds(
            s.map.target_mmhg, s.map.supranormal_mmhg, s.heart_rate_high_bpm, s.map.bucket_s * 1000
        )
        self._rules = [(r, pack.rules[r.rule_id]) for r in rules if pack.rule(r.rule_id)]
        self._gated: list[_Gated] = [
            (
                rule,
                spec,
                frozenset(rule.needs),
                frozenset(k for t in rule.timers for k in (t, t + BROKEN_AT)),
            )
            for rule, spec in self._rules
        ]
        self._time_only = [(r, spec) for r, spec in self._rules if r.time_only]
        windows = [
            v
            for _, spec in self._rules
            for k, v in spec.params.model_dump().items()
            if k.endswith("window_min")
        ]
        # Samples older than the longest window any rule reads can never matter again.
        self.retention_ms = int(max([30.0, *windows]) * MINUTE_MS) + self.thresholds.bucket_ms
        self.lateness_ms = int(s.lateness_min * MINUTE_MS)
        self.step_ms = int(s.evaluation_step_s * 1000)
        self._thresholds_key = self.thresholds.key
        self._artifact_limits = s.artifacts
        self._bucket_ms = self.thresholds.bucket_ms
        self._running_keys = [
            (drug, RUNNING_TIMER[drug], RUNNING_TIMER[drug] + BROKEN_AT) for drug in Drug
        ]
        self._plans: dict[frozenset[Drug], _Plan] = {}
        # Per bed: closed-bucket totals per window (see ``Context._closed``). A memo only:
        # results are identical with an empty cache (after a restart, say).
        self._closed: dict[str, dict[int, tuple[int, int, list[int]]]] = {}
        # Per bed: doses and NE equivalent with the pumps and weight they came from, also
        # a memo only (building them was about a fifth of an evaluation in replay).
        self._derived: dict[str, tuple[tuple[object, ...], Derived]] = {}

    # -- events -------------------------------------------------------------
    def apply(self, state: BedState | None, event: Event) -> Step:
        step = self.apply_in_place(state, event)
        if step is None:
            assert state is not None  # only a known bed's state is changed in place
            return Step(state)
        return step

    def apply_in_place(self, state: BedState | None, event: Event) -> Step | None:
        """``apply``, but None when the event changed only ``state``, in place, with
        nothing to report: a bed's next arterial sample between two evaluations, which is
        nearly all input. Callers that apply a whole stream (worker, replay) skip
        building an empty step per sample."""
        if (
            type(event) is ArterialSample
            and state is not None
            and event.ts > state.clock_ms
            and (event.encounter_id is None or event.encounter_id == state.encounter_id)
            and state.thresholds_key == self._thresholds_key
            and self.in_order_path
        ):
            return self._next_sample(state, event)
        if state is None:
            state = BedState(bed_id=event.bed_id)
        step = Step(state)
        if event.encounter_id is not None and event.encounter_id != state.encounter_id:
            if state.encounter_id is not None:
                step.transitions.extend(lifecycle.resolve_all(state, event.ts))
                state = step.state = state.fresh_encounter(event.encounter_id)
            else:
                state.encounter_id = event.encounter_id
        if isinstance(event, Acknowledgement):
            step.transitions.extend(
                lifecycle.acknowledge(state, event.alert_id, event.by, event.ts)
            )
            return step
        event_digest = digest(event)
        recent = state.recent
        # Every remembered event is at or before the bed's clock, so a newer one cannot be
        # a duplicate: in-order input (nearly all of it) skips the scan.
        if event.ts <= state.clock_ms and event_digest in recent:
            step.notes.append("duplicate")
            return step
        recent.append(event_digest)
        if len(recent) > MAX_RECENT_DIGESTS:
            del recent[: len(recent) - MAX_RECENT_DIGESTS]
        if state.thresholds_key != self._thresholds_key:
            state.buckets.clear()
            state.buckets_revision += 1
            state.thresholds_key = self._thresholds_key
        if state.clock_ms and event.ts < state.clock_ms - self.lateness_ms:
            step.notes.append("late")
        if isinstance(event, ArterialSample):
            if not self._apply_arterial(state, event, step):
                return step
            clock = max(state.clock_ms, event.ts)
            if state.evaluated_ms // self.step_ms == clock // self.step_ms:
                state.clock_ms = clock  # same evaluation step: the window barely moved
                return step
        elif isinstance(event, PumpUpdate):
            apply_pump(state, event, step.notes, self._epinephrine)
        elif isinstance(event, Observation):
            apply_observation(state, event)
        state.clock_ms = max(state.clock_ms, event.ts)
        step.transitions.extend(self._evaluate(state, event))
        return step

    def _next_sample(self, state: BedState, event: ArterialSample) -> Step | None:
        """``apply`` for the case that is nearly all input: a bed's next arterial sample.

        Newer than anything the bed has seen, so it cannot be a duplicate, late or out
        of its bucket; what is left of ``apply`` for it is below. A property test holds
        this to the general path's results. None: nothing to report.
        """
        step = None
        ts = event.ts
        recent = state.recent
        recent.append(digest(event))
        if len(recent) > MAX_RECENT_DIGESTS:
            del recent[: len(recent) - MAX_RECENT_DIGESTS]
        artifact = self._artifact(event)
        if artifact is not None:
            step = Step(state, notes=[f"artifact:{artifact}"])
        else:
            add_sample(state.buckets, ts, event.map, event.hr, self.thresholds)
            if state.first_arterial_ms is None:
                state.first_arterial_ms = ts
            state.last_arterial_ms = ts
        state.clock_ms = ts
        if state.evaluated_ms // self.step_ms != ts // self.step_ms:
            transitions = self._evaluate(state, event)
            if transitions:
                if step is None:
                    return Step(state, transitions)
                step.transitions.extend(transitions)
        return step

    def tick(self, state: BedState, ts: int) -> Step:
        """Evaluate time-only rules and lifecycle timers at ``ts`` (no data arrived)."""
        step = Step(state)
        if ts <= state.clock_ms:
            return step
        ctx = Context(state, self.pack, ts, None, self.thresholds)
        evaluated = set()
        for rule, spec in self._time_only:
            evaluated.add(rule.rule_id)
            finding = rule.evaluate(ctx, spec.params)
            step.transitions.extend(
                lifecycle.step(state, rule.rule_id, spec.severity, finding, ts, self.pack)
            )
        for rule_id, episode in list(state.episodes.items()):
            if rule_id not in evaluated:
                step.transitions.extend(lifecycle.renotify(state, rule_id, episode, ts, self.pack))
                step.transitions.extend(lifecycle.expire(state, rule_id, episode, ts, self.pack))
        return step

    def forget(self, bed_id: str) -> None:
        """Drop memoised data of a bed that left this worker (evicted or reassigned)."""
        self._closed.pop(bed_id, None)
        self._derived.pop(bed_id, None)

    def evicted(self, state: BedState, now_ms: int) -> bool:
        """True when the bed has sent nothing for the pack's eviction period."""
        return now_ms - state.clock_ms > self.pack.settings.evict_after_h * HOUR_MS

    def retire(self, state: BedState, now_ms: int) -> list[Transition]:
        """Resolve every open episode of a bed dropped for silence: a board must not keep
        showing alerts that nothing will ever resolve."""
        return lifecycle.resolve_all(state, now_ms)

    # -- applying data ------------------------------------------------------
    def _apply_arterial(self, state: BedState, event: ArterialSample, step: Step) -> bool:
        if state.clock_ms and event.ts < state.clock_ms - self.retention_ms:
            step.rejection = Rejection("late", "sample is older than every window")
            return False
        artifact = self._artifact(event)
        if artifact is not None:
            step.notes.append(f"artifact:{artifact}")
            state.clock_ms = max(state.clock_ms, event.ts)
            return True
        ts = event.ts
        bucket_ms = self._bucket_ms
        if ts // bucket_ms < state.clock_ms // bucket_ms:
            state.buckets_revision += 1
        add_sample(state.buckets, ts, event.map, event.hr, self.thresholds)
        first = state.first_arterial_ms
        if first is None or ts < first:
            state.first_arterial_ms = ts
        last = state.last_arterial_ms
        if last is None or ts > last:
            state.last_arterial_ms = ts
        return True

    def _artifact(self, event: ArterialSample) -> str | None:
        limits = self._artifact_limits
        if not limits.map_min_mmhg <= event.map <= limits.map_max_mmhg:
            return "map_out_of_range"
        if event.sbp is not None and event.dbp is not None:
            if event.sbp <= event.dbp:
                return "systolic_not_above_diastolic"
            if event.sbp - event.dbp < limits.min_pulse_pressure_fraction * event.sbp:
                return "damped_pulse_pressure"
        return None

    def _epinephrine(self, state: BedState) -> float:
        """The bed's total epinephrine dose in mcg/kg/min, from its running pumps."""
        return self._context(state, None).dose(EPINEPHRINE).per_kg_min

    # -- evaluation ---------------------------------------------------------
    def _plan(self, drugs: frozenset[Drug]) -> _Plan:
        """Which rules a bed running ``drugs`` must evaluate: those whose drugs all run
        (in pack order), and of the others, the ids and timers that would make one due
        (see ``RuleDef.needs``)."""
        due = [gated for gated in self._gated if gated[2] <= drugs]
        idle = [gated for gated in self._gated if not gated[2] <= drugs]
        return (
            due,
            frozenset(rule.rule_id for rule, _, _, _ in idle),
            frozenset(timer for _, _, _, timers in idle for timer in timers),
        )

    def _context(self, state: BedState, event: Event | None) -> Context:
        bed_id = state.bed_id
        cache = self._closed.get(bed_id)
        if cache is None:
            cache = self._closed[bed_id] = {}
        key = derived_key(state)
        memo = self._derived.get(bed_id)
        derived = memo[1] if memo is not None and memo[0] == key else None
        ctx = Context(state, self.pack, state.clock_ms, event, self.thresholds, cache, derived)
        if derived is None and ctx.derived is not None:
            self._derived[bed_id] = (key, ctx.derived)
        return ctx

    def _evaluate(self, state: BedState, event: Event) -> list[Transition]:
        oldest = state.clock_ms - self.retention_ms
        # Nothing older than the previous evaluation's oldest bucket can have arrived
        # since (it would have been late), so pruning waits for that bucket to move on.
        if oldest // self._bucket_ms != (state.evaluated_ms - self.retention_ms) // self._bucket_ms:
            prune(state.buckets, oldest, self._bucket_ms)
        state.evaluated_ms = state.clock_ms
        ctx = self._context(state, event)
        held, doses, since = ctx.held, ctx.doses, state.since
        for drug, key, broken_key in self._running_keys:
            # A drug that is not running, with no timer and no break to remember, is
            # what held() would leave unchanged: most of the drugs, most of the time.
            dose = doses.get(drug)  # ctx.running(drug), without a call per drug
            is_running = dose is not None and dose.per_min > 0
            if is_running or key in since or broken_key in since:
                held(key, is_running, 0)
        held(ANY_VASOPRESSOR, bool(ctx.vasopressors_running), 0)
        transitions: list[Transition] = []
        episodes = state.episodes
        rules = self._gated
        if self.skip_idle_rules:
            plan = self._plans.get(drugs := frozenset(doses))
            if plan is None:
                plan = self._plans[drugs] = self._plan(drugs)
            due, idle_ids, idle_timers = plan
            # Nearly always no rule of a drug not running has anything open: one check
            # for them all instead of one per rule.
            if episodes.keys().isdisjoint(idle_ids) and since.keys().isdisjoint(idle_timers):
                rules = due
            else:
                rules = [
                    gated
                    for gated in self._gated
                    if gated[2] <= drugs
                    or gated[0].rule_id in episodes
                    or not since.keys().isdisjoint(gated[3])
                ]
        for rule, spec, _, _ in rules:
            finding = rule.evaluate(ctx, spec.params)
            if finding is None and rule.rule_id not in episodes:
                continue  # quiet and nothing open: the lifecycle has nothing to do
            transitions.extend(
                lifecycle.step(state, rule.rule_id, spec.severity, finding, ctx.now, self.pack)
            )
        return transitions
