"""The ops team's alerting rules, checked and unit-tested by the real promtool."""

from __future__ import annotations

import re
import shutil
import subprocess

import yaml

from stream_app.local_kafka import PROJECT_ROOT

PROMETHEUS_DIR = PROJECT_ROOT / "deploy" / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    assert binary, "promtool missing: `make test` installs Debian's prometheus package"
    return subprocess.run(
        [binary, *args],
        check=False,
        cwd=PROMETHEUS_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_scrape_config_and_rules_are_valid() -> None:
    result = promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_passes_its_promtool_unit_tests() -> None:
    result = promtool("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_has_a_unit_test_and_a_runbook_section() -> None:
    rules = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())
    tested = yaml.safe_load((PROMETHEUS_DIR / "alerts.test.yml").read_text())
    names = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    firing = {
        case["alertname"]
        for test in tested["tests"]
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    assert names == firing, "each rule needs a case where it fires"
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in (PROJECT_ROOT / "docs" / "operations.md").read_text().splitlines()
        if line.startswith("#")
    }
    for group in rules["groups"]:
        for rule in group["rules"]:
            page, anchor = rule["annotations"]["runbook"].split("#")
            assert page == "docs/operations.md"
            assert anchor in headings, f"{rule['alert']}: no section '{anchor}'"
