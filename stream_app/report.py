"""Alert burden of a replay file: what a unit would have been told, and how often.

``vasowatch report FILE`` replays the file through the engine (exactly as
``replay`` does) and counts per rule: episodes (an alert's first notification),
re-notifications, how long episodes stayed open, and the rate per vasopressor-day,
the denominator an ICU compares alarm burden with.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from statistics import median
from typing import Any

import orjson

from stream_app.domain.codec import Rejection, decode_element
from stream_app.domain.drugs import VASOPRESSORS
from stream_app.domain.events import PumpUpdate
from stream_app.engine.engine import Engine
from stream_app.replay import replay

HOUR_MS = 3_600_000
SEVERITY_ORDER = ("high", "medium", "low")


@dataclass
class _Episode:
    rule_id: str
    severity: str
    bed_id: str
    started_ms: int
    renotifications: int = 0
    resolved_ms: int | None = None


@dataclass
class _VasopressorClock:
    """Hours with at least one vasopressor running, per bed, from the pump records."""

    running: dict[str, dict[str, bool]] = field(default_factory=lambda: defaultdict(dict))
    since: dict[str, int] = field(default_factory=dict)
    last_ts: dict[str, int] = field(default_factory=dict)
    hours: float = 0.0

    def pump(self, update: PumpUpdate) -> None:
        bed = update.bed_id
        pumps = self.running[bed]
        was = any(pumps.values())
        pumps[update.pump_id] = update.running and update.drug in VASOPRESSORS
        now = any(pumps.values())
        if now and not was:
            self.since[bed] = update.ts
        elif was and not now:
            self.hours += (update.ts - self.since.pop(bed)) / HOUR_MS

    def seen(self, bed: str, ts: int) -> None:
        self.last_ts[bed] = max(ts, self.last_ts.get(bed, ts))

    def close(self) -> None:
        """Infusions still running when the data ends count up to the bed's last event."""
        for bed, since in self.since.items():
            self.hours += max(0, self.last_ts.get(bed, since) - since) / HOUR_MS
        self.since.clear()


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def burden(lines: Iterable[bytes], engine: Engine) -> dict[str, Any]:
    records = [line for line in lines if line.strip()]
    clock = _VasopressorClock()
    beds: set[str] = set()
    for line in records:
        record = orjson.loads(line)
        if record.get("kind") in ("arterial", "infusion", "observation", "ack"):
            event = decode_element(record["kind"], record)
            if isinstance(event, PumpUpdate):
                clock.pump(event)
            if not isinstance(event, Rejection):
                beds.add(event.bed_id)
                clock.seen(event.bed_id, event.ts)
    clock.close()
    out = io.BytesIO()
    replay(records, engine, out, io.StringIO())
    episodes: dict[str, _Episode] = {}
    for line in out.getvalue().splitlines():
        alert = orjson.loads(line)
        episode = episodes.get(alert["alert_id"])
        if episode is None:
            episode = _Episode(
                alert["rule_id"], alert["severity"], alert["bed_id"], _ms(alert["started_at"])
            )
            episodes[alert["alert_id"]] = episode
        if alert["status"] == "firing" and alert["notification"] > 1:
            episode.renotifications += 1
        elif alert["status"] == "resolved":
            episode.resolved_ms = _ms(alert["event_ts"])
    return _summarise(beds, clock.hours, list(episodes.values()), engine)


def _summarise(
    beds: set[str], vasopressor_hours: float, episodes: list[_Episode], engine: Engine
) -> dict[str, Any]:
    days = vasopressor_hours / 24
    by_rule: dict[str, list[_Episode]] = defaultdict(list)
    for episode in episodes:
        by_rule[episode.rule_id].append(episode)
    rules = {}
    for rule_id, group in sorted(by_rule.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        durations = [
            (e.resolved_ms - e.started_ms) / 60_000 for e in group if e.resolved_ms is not None
        ]
        by_severity = Counter(e.severity for e in group)
        rules[rule_id] = {
            # A rule may raise its severity with the finding (renal-dose dopamine).
            "severity": min(by_severity, key=SEVERITY_ORDER.index),
            "by_severity": dict(
                sorted(by_severity.items(), key=lambda kv: SEVERITY_ORDER.index(kv[0]))
            ),
            "episodes": len(group),
            "stays": len({e.bed_id for e in group}),
            "renotifications": sum(e.renotifications for e in group),
            "per_vasopressor_day": round(len(group) / days, 3) if days else None,
            "median_firing_min": round(median(durations), 1) if durations else None,
            "resolved": len(durations),
            "open_at_end": len(group) - len(durations),
        }
    high_beds = {e.bed_id for e in episodes if e.severity == "high"}
    severities = Counter(e.severity for e in episodes)
    return {
        "rulepack_version": engine.pack.version,
        "stays": len(beds),
        "vasopressor_hours": round(vasopressor_hours, 1),
        "episodes": len(episodes),
        "episodes_by_severity": dict(sorted(severities.items())),
        "renotifications": sum(e.renotifications for e in episodes),
        "episodes_per_vasopressor_day": round(len(episodes) / days, 3) if days else None,
        # What a nurse hears: first notifications and re-notifications (nobody
        # acknowledges in a replay, so this is the ceiling of the burden).
        "notifications_per_vasopressor_day": round(
            (len(episodes) + sum(e.renotifications for e in episodes)) / days, 1
        )
        if days
        else None,
        "stays_with_high_alert": len(high_beds),
        "share_stays_with_high_alert": round(len(high_beds) / len(beds), 3) if beds else None,
        "rules": rules,
    }


def render_table(report: dict[str, Any]) -> str:
    lines = [
        f"stays: {report['stays']}   vasopressor-hours: {report['vasopressor_hours']}   "
        f"episodes: {report['episodes']} ({report['episodes_per_vasopressor_day']} per "
        f"vasopressor-day)   re-notifications: {report['renotifications']} "
        f"({report['notifications_per_vasopressor_day']} notifications per vasopressor-day)",
        f"stays with at least one high alert: {report['stays_with_high_alert']} "
        f"({_percent(report['share_stays_with_high_alert'])})   "
        f"rule pack {report['rulepack_version']}",
        "",
        f"{'rule':<30} {'severity':<11} {'episodes':>8} {'stays':>6} {'per vp-day':>10} "
        f"{'re-notif.':>9} {'median open':>11} {'open at end':>11}",
    ]
    for rule_id, row in report["rules"].items():
        median_text = "-" if row["median_firing_min"] is None else f"{row['median_firing_min']} min"
        severity = "/".join(row["by_severity"])
        per_day = "-" if row["per_vasopressor_day"] is None else row["per_vasopressor_day"]
        lines.append(
            f"{rule_id:<30} {severity:<11} {row['episodes']:>8} {row['stays']:>6} "
            f"{per_day:>10} {row['renotifications']:>9} {median_text:>11} {row['open_at_end']:>11}"
        )
    return "\n".join(lines)


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.0f}%"


def write_chart(report: dict[str, Any], path: Path, title: str) -> None:
    """Horizontal bars of episodes per rule; severity by hatch and shade, not hue alone."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    style = {
        "high": ("#1b3a5c", "//"),
        "medium": ("#5b8fb9", ".."),
        "low": ("#b8d4ea", ""),
    }
    rows = list(report["rules"].items())[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.45 * max(len(rows), 1) + 1.5))
    for i, (_, row) in enumerate(rows):
        colour, hatch = style.get(row["severity"], ("#888888", ""))
        ax.barh(i, row["episodes"], color=colour, hatch=hatch, edgecolor="black", linewidth=0.5)
        ax.text(row["episodes"], i, f" {row['episodes']}", va="center", fontsize=8)
    ax.set_yticks(range(len(rows)), [rule_id for rule_id, _ in rows], fontsize=8)
    ax.set_xlabel("alert episodes")
    ax.set_title(title, fontsize=10)
    handles = [Rectangle((0, 0), 1, 1, color=c, hatch=h, ec="black") for c, h in style.values()]
    ax.legend(handles, list(style), title="severity", fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
