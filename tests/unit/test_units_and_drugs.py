"""Unit conversion, drug synonyms and unit/drug mismatches: one table each."""

from __future__ import annotations

import pytest

from stream_app.domain.codec import decode_element
from stream_app.domain.drugs import Drug, normalise_drug_name
from stream_app.domain.events import PumpUpdate
from stream_app.domain.units import CanonicalRate, UnitMismatch, canonical_rate


@pytest.mark.parametrize(
    ("drug", "rate", "unit", "conc", "conc_unit", "expected"),
    [
        (Drug.NOREPINEPHRINE, 10, "mcg/min", None, None, CanonicalRate(10, False)),
        (Drug.NOREPINEPHRINE, 0.1, "mcg/kg/min", None, None, CanonicalRate(0.1, True)),
        (Drug.NOREPINEPHRINE, 0.6, "mg/h", None, None, CanonicalRate(10, False)),
        (Drug.NOREPINEPHRINE, 15, "mL/h", 16, "mcg/mL", CanonicalRate(4, False)),
        (Drug.NOREPINEPHRINE, 15, "mL/h", 0.016, "mg/mL", CanonicalRate(4, False)),
        (Drug.EPINEPHRINE, 0.05, "mcg/kg/min", None, None, CanonicalRate(0.05, True)),
        (Drug.PHENYLEPHRINE, 6, "mg/h", None, None, CanonicalRate(100, False)),
        (Drug.DOPAMINE, 5, "mcg/kg/min", None, None, CanonicalRate(5, True)),
        (Drug.DOBUTAMINE, 5, "mcg/kg/min", None, None, CanonicalRate(5, True)),
        (Drug.VASOPRESSIN, 0.03, "units/min", None, None, CanonicalRate(0.03, False)),
        (Drug.VASOPRESSIN, 2.4, "units/h", None, None, CanonicalRate(0.04, False)),
        (Drug.VASOPRESSIN, 4.5, "mL/h", 0.4, "units/mL", CanonicalRate(0.03, False)),
    ],
)
def test_canonical_rate(drug, rate, unit, conc, conc_unit, expected) -> None:  # type: ignore[no-untyped-def]
    """Every supported unit converts to mcg/min, mcg/kg/min or units/min."""
    got = canonical_rate(drug, rate, unit, conc, conc_unit)
    assert got.per_kg == expected.per_kg
    assert got.amount_per_min == pytest.approx(expected.amount_per_min)


@pytest.mark.parametrize(
    ("drug", "unit", "conc_unit"),
    [
        (Drug.VASOPRESSIN, "mcg/kg/min", None),
        (Drug.VASOPRESSIN, "mcg/min", None),
        (Drug.VASOPRESSIN, "mg/h", None),
        (Drug.VASOPRESSIN, "mL/h", "mcg/mL"),
        (Drug.NOREPINEPHRINE, "units/min", None),
        (Drug.NOREPINEPHRINE, "units/h", None),
        (Drug.NOREPINEPHRINE, "mL/h", "units/mL"),
        (Drug.EPINEPHRINE, "units/min", None),
        (Drug.DOPAMINE, "units/h", None),
        (Drug.NOREPINEPHRINE, "mL/h", None),  # no concentration at all
    ],
)
def test_unit_unfit_for_drug_is_rejected(drug, unit, conc_unit) -> None:  # type: ignore[no-untyped-def]
    """A unit that does not fit the drug is a mismatch, never a silent conversion."""
    with pytest.raises(UnitMismatch):
        canonical_rate(drug, 1.0, unit, 1.0 if conc_unit else None, conc_unit)


@pytest.mark.parametrize(
    ("name", "drug"),
    [
        ("norepinephrine", Drug.NOREPINEPHRINE),
        ("Noradrenaline", Drug.NOREPINEPHRINE),
        ("LEVOPHED", Drug.NOREPINEPHRINE),
        ("Norepinephrine (mcg/min)", Drug.NOREPINEPHRINE),
        ("Levophed (ml/hr)", Drug.NOREPINEPHRINE),
        ("adrenaline", Drug.EPINEPHRINE),
        ("Epinephrine", Drug.EPINEPHRINE),
        ("Vasostrict", Drug.VASOPRESSIN),
        ("Vasopressin (units/min)", Drug.VASOPRESSIN),
        ("Neo-Synephrine", Drug.PHENYLEPHRINE),
        ("neosynephrine", Drug.PHENYLEPHRINE),
        ("Dopamine (mcg/kg/min)", Drug.DOPAMINE),
        ("Intropin", Drug.DOPAMINE),
        ("Dobutamine", Drug.DOBUTAMINE),
        ("dobutrex", Drug.DOBUTAMINE),
        ("propofol", None),
        ("Heparin (units/hr)", None),
        ("", None),
    ],
)
def test_drug_synonyms(name: str, drug: Drug | None) -> None:
    """Brand names, synonyms, case and bracketed units all resolve; other drugs are None."""
    assert normalise_drug_name(name) == drug


def test_other_drug_is_valid_and_untracked() -> None:
    """A drug vasowatch does not track is accepted (counted and ignored by the engine)."""
    event = decode_element(
        "infusion",
        {
            "bed_id": "b1",
            "ts": 1_790_000_000_000,
            "pump_id": "p9",
            "drug": "propofol",
            "status": "running",
            "rate": 30,
            "rate_unit": "mcg/kg/min",
        },
    )
    assert isinstance(event, PumpUpdate)
    assert event.drug is None
