"""What a pump update or an observation does to a bed's state, and event digests.

Pure helpers of the engine (``engine.py`` keeps the order of things: duplicates,
lateness, encounters, evaluation); each changes only the state it is given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from stream_app.domain.drugs import Drug
from stream_app.domain.events import ArterialSample, Event, Observation, PumpUpdate
from stream_app.engine.state import (
    MAX_LACTATES,
    MAX_PUMPS,
    MAX_URINE_PERIODS,
    BedState,
    PumpState,
)


def apply_pump(
    state: BedState,
    event: PumpUpdate,
    notes: list[str],
    epinephrine: Callable[[BedState], float],
) -> None:
    """Record a pump's new setting; ``epinephrine`` gives the bed's total epinephrine
    dose (mcg/kg/min), to time an increase as a titration step."""
    current = state.pumps.get(event.pump_id)
    if current is not None and event.ts < current.ts:
        notes.append("superseded")
        return
    if event.weight_kg is not None and (state.weight_ms is None or event.ts >= state.weight_ms):
        state.weight_kg, state.weight_ms = event.weight_kg, event.ts
    if event.drug is None:
        state.pumps.pop(event.pump_id, None)
        notes.append("untracked_drug")
        return
    # Only an epinephrine change can be a titration step worth timing.
    is_epinephrine = event.drug is Drug.EPINEPHRINE
    epi_before = epinephrine(state) if is_epinephrine else 0.0
    state.pumps[event.pump_id] = PumpState(
        event.drug.value,
        event.running,
        event.amount_per_min,
        event.per_kg,
        event.ts,
        event.route,
        event.weight_kg,
    )
    if len(state.pumps) > MAX_PUMPS:
        idle = sorted((p.ts, k) for k, p in state.pumps.items() if not p.running)
        for _, key in idle[: len(state.pumps) - MAX_PUMPS]:
            del state.pumps[key]
    if not is_epinephrine:
        return
    epi_after = epinephrine(state)
    if epi_after > epi_before + 1e-9:
        previous = state.epinephrine_increase_ms
        gap = -1 if previous is None else event.ts - previous
        state.epinephrine_step = [event.ts, epi_after - epi_before, gap]
        state.epinephrine_increase_ms = event.ts


def apply_observation(state: BedState, event: Observation) -> None:
    if event.code == "lactate":
        state.lactates.append([event.ts, event.value])
        state.lactates.sort()
        del state.lactates[:-MAX_LACTATES]
    elif event.code == "urine_output":
        state.urine.append([event.ts, event.value, event.period_min or 60])
        state.urine.sort()
        del state.urine[:-MAX_URINE_PERIODS]
    elif event.code == "fluid_bolus":
        state.fluid_ml += event.value
        state.fluid_recorded = True
    elif event.code == "hydrocortisone":
        state.hydrocortisone_ms = max(state.hydrocortisone_ms or 0, event.ts)
    elif event.code == "weight" and (state.weight_ms is None or event.ts >= state.weight_ms):
        state.weight_kg, state.weight_ms = event.value, event.ts


def digest(event: Event) -> int:
    """A stable 64-bit digest of an event, for spotting duplicates across restarts.

    Samples hash as a tuple of numbers (Python hashes numbers the same in every
    process); events with text go through blake2b, since str hashes are salted.
    """
    if isinstance(event, ArterialSample):
        return hash((event.ts, event.map, event.sbp, event.dbp, event.hr)) & 0x7FFF_FFFF_FFFF_FFFF
    raw = hashlib.blake2b(repr(event).encode(), digest_size=8).digest()
    return int.from_bytes(raw) & 0x7FFF_FFFF_FFFF_FFFF
