"""HTTP endpoints on the worker's web port: Prometheus metrics, liveness and readiness."""

from __future__ import annotations

from typing import Any

import faust
from prometheus_client import CollectorRegistry, generate_latest

METRICS_PATH = "/metrics"
LIVENESS_PATH = "/health/live"
READINESS_PATH = "/health/ready"


def ready(app: faust.App) -> tuple[bool, str]:
    """Ready means: in the consumer group, not rebalancing, and bed state recovered."""
    if not app.consumer or not getattr(app.consumer, "_started", True):
        return False, "consumer not started"
    if app.rebalancing:
        return False, "rebalancing"
    recovery = getattr(app.tables, "recovery", None)  # TableManager has it; its type does not
    if app.in_recovery or (recovery is not None and not recovery.completed.is_set()):
        return False, "recovering bed state from the changelog"
    return True, "ready"


def install_web(app: faust.App, registry: CollectorRegistry) -> None:
    @app.page(METRICS_PATH, name="metrics")
    async def metrics(view: Any, request: Any) -> Any:
        # aiohttp wants the charset apart from the content type.
        return view.text(
            generate_latest(registry).decode(), content_type="text/plain; version=0.0.4"
        )

    @app.page(LIVENESS_PATH, name="liveness")
    async def liveness(view: Any, request: Any) -> Any:
        return view.json({"status": "alive"})

    @app.page(READINESS_PATH, name="readiness")
    async def readiness(view: Any, request: Any) -> Any:
        ok, why = ready(app)
        return view.json(
            {"status": "ready" if ok else "not ready", "reason": why}, status=200 if ok else 503
        )
