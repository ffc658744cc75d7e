"""docs/rules.md, generated from the rule pack and its traceability file.

``python -m stream_app.docs_rules`` rewrites it; a test keeps it current.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from stream_app.engine.registry import RULES, load_rule_pack

ROOT = Path(__file__).resolve().parents[1]
RULES_DIR = ROOT / "rules"
RULES_DOC = ROOT / "docs" / "rules.md"
SCENARIOS = ROOT / "tests" / "scenarios"


def _scenarios(rule_id: str) -> list[str]:
    return sorted(p.name for p in SCENARIOS.glob(f"{rule_id}*.jsonl"))


def rules_markdown() -> str:
    pack = load_rule_pack(RULES_DIR)
    trace = yaml.safe_load((RULES_DIR / "_traceability.yaml").read_text())
    lines = [
        "# Rules and traceability",
        "",
        "Generated from `rules/` by `python -m stream_app.docs_rules`; do not edit by hand.",
        f"Rule pack version `{pack.version}` ({pack.settings.version_label}).",
        "",
        "## Every recommendation of the clinical source",
        "",
        "| clinical source | rules | limits |",
        "|---|---|---|",
    ]
    for entry in trace:
        rules = ", ".join(f"`{r}`" for r in entry["rules"]) or "none"
        lines.append(f"| {entry['source']} | {rules} | {entry.get('limits', '')} |")
    lines += ["", "## The rules", ""]
    for definition in RULES:
        rule = pack.rules[definition.rule_id]
        params = rule.params.model_dump()
        lines += [
            f"### `{rule.rule_id}`: {rule.title}",
            "",
            f"- Severity: {rule.severity}" + ("" if rule.enabled else " (disabled)"),
            f"- Recommendation: {rule.recommendation}",
            f"- Rationale: {rule.rationale.strip()}",
            f'- Guideline: "{rule.citation.strip()}"',
            "- Thresholds: " + (", ".join(f"`{k}` = {v}" for k, v in params.items()) or "none"),
            "- Evaluated on clock ticks too: " + ("yes" if definition.time_only else "no"),
        ]
        if rule.notes:
            lines.append(f"- Note: {rule.notes.strip()}")
        scenarios = _scenarios(rule.rule_id)
        lines.append(
            "- Proven by: `tests/unit/test_scenarios.py` over "
            + ", ".join(f"`tests/scenarios/{name}`" for name in scenarios)
        )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    RULES_DOC.write_text(rules_markdown())
    print(RULES_DOC)
