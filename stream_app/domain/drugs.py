"""Drug names: the tracked vasoactive drugs and every name a pump may use for them.

Matching is case-insensitive and ignores spaces, hyphens and a trailing unit in
brackets (``Norepinephrine (mcg/min)``), so the one table below serves pumps,
EHR exports and the demo extracts alike.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Drug(StrEnum):
    NOREPINEPHRINE = "norepinephrine"
    VASOPRESSIN = "vasopressin"
    EPINEPHRINE = "epinephrine"
    PHENYLEPHRINE = "phenylephrine"
    DOPAMINE = "dopamine"
    DOBUTAMINE = "dobutamine"


# The members under module-level names, for the engine's hot paths: in Python 3.11 each
# ``Drug.NOREPINEPHRINE`` runs enum's Python-level descriptor (ten times the cost of a
# global's lookup), and the rules ask for drugs dozens of times per evaluation.
NOREPINEPHRINE = Drug.NOREPINEPHRINE
VASOPRESSIN = Drug.VASOPRESSIN
EPINEPHRINE = Drug.EPINEPHRINE
PHENYLEPHRINE = Drug.PHENYLEPHRINE
DOPAMINE = Drug.DOPAMINE
DOBUTAMINE = Drug.DOBUTAMINE


# Vasopressors in the guideline's sense; dobutamine is an inotrope, not a vasopressor.
VASOPRESSORS = frozenset(
    {Drug.NOREPINEPHRINE, Drug.VASOPRESSIN, Drug.EPINEPHRINE, Drug.PHENYLEPHRINE, Drug.DOPAMINE}
)

# Doses of these are measured in micrograms; vasopressin in international units.
MICROGRAM_DRUGS = frozenset(set(Drug) - {Drug.VASOPRESSIN})

SYNONYMS: dict[str, Drug] = {
    # norepinephrine
    "norepinephrine": Drug.NOREPINEPHRINE,
    "noradrenaline": Drug.NOREPINEPHRINE,
    "norepinephrinebitartrate": Drug.NOREPINEPHRINE,
    "levophed": Drug.NOREPINEPHRINE,
    "levarterenol": Drug.NOREPINEPHRINE,
    "norepi": Drug.NOREPINEPHRINE,
    "nora": Drug.NOREPINEPHRINE,
    # vasopressin
    "vasopressin": Drug.VASOPRESSIN,
    "argininevasopressin": Drug.VASOPRESSIN,
    "vasostrict": Drug.VASOPRESSIN,
    "pitressin": Drug.VASOPRESSIN,
    "avp": Drug.VASOPRESSIN,
    # epinephrine
    "epinephrine": Drug.EPINEPHRINE,
    "adrenaline": Drug.EPINEPHRINE,
    "adrenalin": Drug.EPINEPHRINE,
    "epi": Drug.EPINEPHRINE,
    # phenylephrine
    "phenylephrine": Drug.PHENYLEPHRINE,
    "neosynephrine": Drug.PHENYLEPHRINE,
    "neo": Drug.PHENYLEPHRINE,
    "biorphen": Drug.PHENYLEPHRINE,
    # dopamine
    "dopamine": Drug.DOPAMINE,
    "intropin": Drug.DOPAMINE,
    # dobutamine
    "dobutamine": Drug.DOBUTAMINE,
    "dobutrex": Drug.DOBUTAMINE,
}

_BRACKETED = re.compile(r"\(.*?\)|\[.*?\]")
_SEPARATORS = re.compile(r"[\s\-_.]+")


def normalise_drug_name(name: str) -> Drug | None:
    """The tracked drug a free-text name means, or None for any other drug."""
    key = _SEPARATORS.sub("", _BRACKETED.sub("", name).lower())
    return SYNONYMS.get(key)
