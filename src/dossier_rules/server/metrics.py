"""Prometheus metrics: requests, latency and screenings by outcome, with no personal data.

Labels are bounded and carry nothing about a person or a dossier: the route
*template* (``/api/v1/screenings/{screening_id}``, never the filled-in path),
the method, the status code, a screening's worst severity and its country.
Each app has its own registry, so several apps (tests) never collide.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..results import outcome_of


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("dossier_rules_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram(
            "dossier_rules_http_request_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.screenings = Counter(
            "dossier_rules_screenings",
            "Dossiers screened, by outcome (blocked, review, clear, not_in_force, unreadable) and country",
            ["outcome", "country"],
            registry=self.registry,
        )

    def screened(self, record: dict[str, Any]) -> None:
        """Count one output record of a screening by its outcome (an error record is ``unreadable``)."""
        self.screenings.labels(outcome_of(record), record.get("country", "")).inc()

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class RequestMetrics:
    """ASGI middleware timing every HTTP request under its route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)
