"""docs/metrics.md, generated from the worker's own Prometheus registry.

``python -m stream_app.docs_metrics`` rewrites it; a test keeps it current, so the
catalogue lists exactly what ``/metrics`` can serve. The same inventory lets tests
check that dashboards and alerting rules only name metrics that exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry

from stream_app.engine.registry import load_rule_pack
from stream_app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
METRICS_DOC = ROOT / "docs" / "metrics.md"

_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
    "info": ("_info",),
}


@dataclass(frozen=True)
class Family:
    name: str
    kind: str
    labels: tuple[str, ...]
    help: str

    @property
    def series_names(self) -> tuple[str, ...]:
        """The names a query can use: the family name with its type's suffixes."""
        suffixes = _SUFFIXES.get(self.kind, ())
        if self.kind == "info":
            return tuple(self.name + s for s in suffixes)
        return (self.name, *(self.name + s for s in suffixes))


def worker_registry() -> CollectorRegistry:
    """The registry a worker with default settings and the project's rule pack serves."""
    from stream_app.stream.app import create_app  # Faust only when asked for

    app = create_app(Settings(), load_rule_pack(ROOT / "rules"))
    registry: CollectorRegistry = app.vasowatch_registry  # type: ignore[attr-defined]
    return registry


def families(registry: CollectorRegistry) -> list[Family]:
    out: dict[str, Family] = {}
    for metric in registry.collect():
        labels = sorted(
            {label for sample in metric.samples for label in sample.labels if label != "le"}
        )
        out[metric.name] = Family(metric.name, metric.type, tuple(labels), metric.documentation)
    # Labelled metrics without children yet have no samples: take their declared labels.
    for collector in list(registry._collector_to_names):
        declared = getattr(collector, "_labelnames", None)
        name = getattr(collector, "_name", None)
        if declared and name in out:
            known = out[name]
            out[name] = Family(known.name, known.kind, tuple(declared), known.help)
    return sorted(out.values(), key=lambda f: f.name)


def exported_series_names(registry: CollectorRegistry) -> set[str]:
    return {name for family in families(registry) for name in family.series_names}


_SECTIONS = (
    ("vasowatch_", "vasowatch", "The domain metrics (`stream_app/metrics.py`)."),
    ("", "Process and Python runtime", "prometheus-client's process, platform and GC collectors."),
)


def metrics_markdown() -> str:
    lines = [
        "# Metrics catalogue",
        "",
        "Generated from the worker's registry by `python -m stream_app.docs_metrics`; do not",
        "edit by hand. Served at `/metrics` on the web port (`VASOWATCH_WEB_PORT`, 6066).",
        "",
        "Labels are topics, partitions, reasons, rule ids, severities and statuses, all from",
        "fixed sets: no bed, encounter or patient identifier ever appears in a label (a test",
        "walks every label of a worker that has processed real beds). Counters are served",
        "with the `_total` suffix, histograms as `_bucket`/`_sum`/`_count`, the info metric",
        "as `_info`. Latency histograms have buckets from 10 ms to 60 s.",
        "",
        "How the ops team uses them: `deploy/prometheus/alerts.yml` (paging rules),",
        "`deploy/grafana/dashboards/vasowatch.json` (dashboard), `docs/operations.md`.",
    ]
    remaining = families(worker_registry())
    for prefix, title, origin in _SECTIONS:
        chosen = [f for f in remaining if f.name.startswith(prefix)]
        remaining = [f for f in remaining if f not in chosen]
        lines += ["", f"## {title}", "", origin, "", "| metric | type | labels | meaning |"]
        lines.append("|---|---|---|---|")
        for family in chosen:
            labels = ", ".join(f"`{label}`" for label in family.labels) or "-"
            lines.append(f"| `{family.name}` | {family.kind} | {labels} | {family.help} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    METRICS_DOC.write_text(metrics_markdown())
