"""What the board shows, built from alert transitions alone (pure).

A bed's tile holds its open episodes. ``firing`` opens or re-notifies an episode,
``acknowledged`` marks it, ``resolved`` removes it; a bed with nothing open leaves
the board. A silent or missing arterial line, and a silent input partition (the
worker's own blindness alert), put the tile in the "feed lost" state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}
FEED_LOST_RULES = frozenset({"arterial_feed_stale", "arterial_line_missing", "partition_silent"})
SHOWN_FIELDS = (
    "alert_id",
    "rule_id",
    "severity",
    "status",
    "notification",
    "title",
    "recommendation",
    "evidence",
    "started_at",
    "event_ts",
    "acknowledged_by",
    "rulepack_version",
)


@dataclass
class BoardState:
    _beds: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    version: int = 0

    def apply(self, alert: dict[str, Any]) -> bool:
        """Take one transition from icu.alerts; returns whether the board changed."""
        try:
            bed, alert_id, status = str(alert["bed_id"]), str(alert["alert_id"]), alert["status"]
        except (KeyError, TypeError):
            return False
        episodes = self._beds.setdefault(bed, {})
        if status == "resolved":
            changed = episodes.pop(alert_id, None) is not None
        elif status in ("firing", "acknowledged"):
            shown = {name: alert.get(name) for name in SHOWN_FIELDS}
            known = episodes.get(alert_id)
            if known is not None and known["status"] == "acknowledged" and status == "firing":
                shown["status"] = "acknowledged"  # a late re-notification does not undo an ack
            changed = known != shown
            episodes[alert_id] = shown
        else:
            changed = False
        if not episodes:
            del self._beds[bed]
        if changed:
            self.version += 1
        return changed

    def tiles(self) -> list[dict[str, Any]]:
        """One tile per bed with open alerts, the bed needing attention first."""
        out = []
        for bed, episodes in self._beds.items():
            alerts = sorted(
                episodes.values(),
                key=lambda a: (SEVERITY_RANK.get(a["severity"], 9), a["started_at"] or ""),
            )
            worst = alerts[0]
            out.append(
                {
                    "bed_id": bed,
                    "severity": worst["severity"],
                    "unacknowledged": sum(a["status"] == "firing" for a in alerts),
                    "feed_lost": any(a["rule_id"] in FEED_LOST_RULES for a in alerts),
                    "alerts": alerts,
                }
            )
        out.sort(
            key=lambda t: (
                SEVERITY_RANK.get(t["severity"], 9),
                t["unacknowledged"] == 0,  # what nobody has seen yet comes first
                t["alerts"][0]["started_at"] or "",
                t["bed_id"],
            )
        )
        return out

    def find(self, bed_id: str, alert_id: str) -> dict[str, Any] | None:
        return self._beds.get(bed_id, {}).get(alert_id)
