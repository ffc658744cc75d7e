"""What the ops team is given names only what the worker exports, and nothing identifying."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from stream_app.docs_metrics import (
    METRICS_DOC,
    exported_series_names,
    families,
    metrics_markdown,
    worker_registry,
)
from stream_app.local_kafka import PROJECT_ROOT

DASHBOARD = PROJECT_ROOT / "deploy" / "grafana" / "dashboards" / "vasowatch.json"
ALERT_RULES = PROJECT_ROOT / "deploy" / "prometheus" / "alerts.yml"
# Series Prometheus itself adds for every target.
PROMETHEUS_OWN = {"up"}
TARGET_LABELS = {"instance", "job", "le"}
METRIC_NAME = re.compile(r"\b((?:vasowatch|process|python)_[a-z0-9_]+|up)\b")
GROUPING = re.compile(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)")


@pytest.fixture(scope="module")
def registry():  # type: ignore[no-untyped-def]
    return worker_registry()


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def rule_queries() -> list[str]:
    rules = yaml.safe_load(ALERT_RULES.read_text())
    return [r["expr"] for g in rules["groups"] for r in g["rules"]]


def test_metrics_catalogue_is_current() -> None:
    """docs/metrics.md lists every family the worker serves (python -m stream_app.docs_metrics)."""
    assert METRICS_DOC.read_text() == metrics_markdown()


@pytest.mark.parametrize("source", ["dashboard", "alert rules"])
def test_every_query_names_metrics_and_labels_the_worker_exports(registry, source: str) -> None:  # type: ignore[no-untyped-def]
    queries = dashboard_queries() if source == "dashboard" else rule_queries()
    assert queries
    exported = exported_series_names(registry) | PROMETHEUS_OWN
    labels = {label for f in families(registry) for label in f.labels} | TARGET_LABELS
    for query in queries:
        names = set(METRIC_NAME.findall(query))
        assert names, f"no metric in {query!r}"
        assert names <= exported, f"{query!r} names {sorted(names - exported)}"
        for group in GROUPING.findall(query):
            used = {label.strip() for label in group.split(",") if label.strip()}
            # label_replace may mint a label of its own for the grouping.
            minted = set(re.findall(r'label_replace\([^"]*"([a-z_]+)"', query))
            assert used <= labels | minted, f"{query!r} groups by {sorted(used - labels)}"


def test_dashboard_covers_what_ops_watch() -> None:
    text = " ".join(dashboard_queries())
    for metric in (
        "vasowatch_events_consumed_total",  # throughput
        "vasowatch_append_to_alert_seconds_bucket",  # latency
        "vasowatch_consumer_lag",  # lag
        "vasowatch_dead_letters_total",  # dead letters
        "vasowatch_active_alerts",  # active alerts by rule and severity
        "vasowatch_last_event_age_seconds",  # per-partition staleness
    ):
        assert metric in text, metric


def test_no_label_can_carry_a_bed_encounter_or_patient_identifier(registry) -> None:  # type: ignore[no-untyped-def]
    allowed = {
        "topic", "kind", "reason", "note", "rule_id", "severity", "status", "partition",
        "stream", "table", "operation", "metric", "status_code", "generation",
        "implementation", "major", "minor", "patchlevel", "version", "label",
    }  # fmt: skip
    for family in families(registry):
        assert set(family.labels) <= allowed, (family.name, family.labels)


def test_grafana_provisioning_points_at_the_dashboard_folder() -> None:
    provider = yaml.safe_load(
        (PROJECT_ROOT / "deploy/grafana/provisioning/dashboards/vasowatch.yml").read_text()
    )
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    path = provider["providers"][0]["options"]["path"]
    assert f"./deploy/grafana/dashboards:{path}:ro" in mounts
    assert json.loads(DASHBOARD.read_text())["uid"] == "vasowatch"
