"""The rule pack: strict models of ``rules/*.yaml`` and the loader.

Every number a clinician may want to change lives in the YAML files, each rule
with the guideline sentence it rests on. An invalid pack is an error naming the
file, the rule and the field; the daemon refuses to start on it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Severity = Literal["high", "medium", "low"]
Positive = Annotated[float, Field(gt=0)]
Fraction = Annotated[float, Field(gt=0, le=1)]
Minutes = Annotated[float, Field(gt=0, le=10080)]
# A dose limit below zero would be met with the drug not running at all.
DoseLimit = Annotated[float, Field(ge=0)]
# How long a condition must hold (0: at once).
HoldMinutes = Annotated[float, Field(ge=0, le=10080)]
Hours = Annotated[float, Field(gt=0, le=168)]

PACK_FILE = "_pack.yaml"


class PackError(ValueError):
    """The rule pack cannot be used; the message names file, rule and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class MapThresholds(_Strict):
    target_mmhg: Annotated[float, Field(ge=40, le=120)] = 65
    supranormal_mmhg: Annotated[float, Field(ge=60, le=150)] = 85
    # "Mostly below target": more than this share of the window's valid samples.
    mostly_fraction: Annotated[float, Field(ge=0.5, lt=1)] = 0.5
    # "Samples span most of W": buckets with data must cover this share of the window.
    coverage_fraction: Fraction = 0.8
    bucket_s: Annotated[int, Field(ge=5, le=300)] = 30
    citation: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> MapThresholds:
        if self.supranormal_mmhg <= self.target_mmhg:
            raise ValueError("supranormal_mmhg must be above target_mmhg")
        return self


class ArtifactLimits(_Strict):
    map_min_mmhg: Annotated[float, Field(ge=0, le=100)] = 30
    map_max_mmhg: Annotated[float, Field(ge=100, le=400)] = 200
    # A damped or clamped line flattens the waveform: pulse pressure collapses.
    min_pulse_pressure_fraction: Annotated[float, Field(ge=0, lt=1)] = 0.15
    citation: str = ""


class NorepinephrineEquivalent(_Strict):
    """Weights that turn each vasopressor's dose into norepinephrine mcg/kg/min."""

    epinephrine: float = 1.0
    phenylephrine: float = 0.1
    dopamine: float = 0.01
    vasopressin_per_unit_min: float = 2.5
    citation: str = ""


class Renotify(_Strict):
    high_min: Minutes | None = 10
    medium_min: Minutes | None = 30
    low_min: Minutes | None = None

    def interval_ms(self, severity: Severity) -> int | None:
        minutes = {"high": self.high_min, "medium": self.medium_min, "low": self.low_min}[severity]
        return None if minutes is None else int(minutes * 60_000)


class PackSettings(_Strict):
    version_label: str
    map: MapThresholds = MapThresholds()
    artifacts: ArtifactLimits = ArtifactLimits()
    ne_equivalent: NorepinephrineEquivalent = NorepinephrineEquivalent()
    renotify: Renotify = Renotify()
    hysteresis_min: Minutes = 2
    lateness_min: Minutes = 2
    default_weight_kg: Annotated[float, Field(gt=20, le=300)] = 80
    heart_rate_high_bpm: Annotated[float, Field(ge=90, le=250)] = 130
    # Arterial samples re-evaluate the rules at most once per this much event time;
    # pump, observation and acknowledgement events always do.
    evaluation_step_s: Annotated[float, Field(gt=0, le=60)] = 5
    evict_after_h: Annotated[float, Field(gt=0, le=720)] = 24


class Rule(_Strict):
    """One rule: its texts, its citation and its numbers (``params``, rule-specific)."""

    rule_id: str
    enabled: bool = True
    severity: Severity
    title: str = Field(min_length=3)
    recommendation: str = Field(min_length=3)
    rationale: str = Field(min_length=3)
    citation: str = Field(min_length=10, description="the guideline sentence it rests on")
    notes: str = ""
    # Validated by the rule's own strict params model at load time (see load_pack).
    params: Any = Field(default_factory=dict)


class RulePack(_Strict):
    settings: PackSettings
    rules: dict[str, Rule]
    version: str  # sha256 of the pack files' bytes: changes whenever any number changes

    def rule(self, rule_id: str) -> Rule | None:
        rule = self.rules.get(rule_id)
        return rule if rule is not None and rule.enabled else None


def load_pack(directory: Path, param_models: dict[str, type[BaseModel]]) -> RulePack:
    """Read and validate every file of a pack folder.

    ``param_models`` maps each known rule id to the strict model of its params,
    so a typo in a threshold's name is an error rather than a silent default.
    """
    if not directory.is_dir():
        raise PackError(f"{directory}: rule pack folder not found")
    digest = hashlib.sha256()
    settings_path = directory / PACK_FILE
    if not settings_path.is_file():
        raise PackError(f"{settings_path}: missing (holds the pack's shared thresholds)")
    raw_settings = _read_yaml(settings_path, digest)
    try:
        settings = PackSettings.model_validate(raw_settings)
    except ValidationError as exc:
        raise PackError(_describe(settings_path, "pack settings", exc)) from None
    rules: dict[str, Rule] = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name.startswith("_"):  # _pack.yaml (read above), _traceability.yaml (docs)
            continue
        raw = _read_yaml(path, digest)
        rule_id = path.stem
        if not isinstance(raw, dict):
            raise PackError(f"{path}: rule {rule_id}: expected a mapping")
        if rule_id not in param_models:
            raise PackError(f"{path}: rule {rule_id}: unknown rule id")
        try:
            rule = Rule.model_validate({"rule_id": rule_id, **raw})
            params = param_models[rule_id].model_validate(rule.params)
        except ValidationError as exc:
            raise PackError(_describe(path, rule_id, exc)) from None
        rules[rule_id] = rule.model_copy(update={"params": params})
    missing = sorted(set(param_models) - set(rules))
    if missing:
        raise PackError(f"{directory}: rules without a file: {', '.join(missing)}")
    return RulePack(settings=settings, rules=rules, version=digest.hexdigest()[:16])


def _read_yaml(path: Path, digest: Any) -> Any:
    data = path.read_bytes()
    digest.update(path.name.encode() + b"\0" + data + b"\0")
    try:
        return yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise PackError(f"{path}: not valid YAML: {exc}") from None


def _describe(path: Path, rule_id: str, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        problems.append(f"{where}: {error['msg']}")
    return f"{path}: rule {rule_id}: " + "; ".join(problems)
