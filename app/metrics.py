"""Prometheus metrics: request counts and latency by route template, never by raw path.

With several workers (``wardsafe serve --workers N``, app/serving.py) each
worker writes its samples to files in ``PROMETHEUS_MULTIPROC_DIR`` and a scrape
adds up every worker's, so one scrape sees the whole server."""

from __future__ import annotations

import hmac
import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from app.errors import Unauthorized

REQUESTS = Counter(
    "wardsafe_http_requests_total",
    "HTTP requests served, by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "wardsafe_http_request_duration_seconds",
    "Time to serve an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


# Each label set's children, looked up once: ``labels()`` checks and converts
# its arguments and takes a lock on every call, once per request.
_SERVED: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one served request."""
    key = (method, route, status)
    children = _SERVED.get(key)
    if children is None:
        children = _SERVED[key] = (
            REQUESTS.labels(method, route, str(status)),
            LATENCY.labels(method, route),
        )
    count, latency = children
    count.inc()
    latency.observe(seconds)


def _scraped_registry() -> CollectorRegistry:
    # Decided once, as prometheus_client decides at its import whether samples
    # go to files: the environment does not change while the process serves.
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


_SCRAPED = _scraped_registry()


def render(feed_lag_seconds: float | None = None) -> tuple[bytes, str]:
    """The exposition text (every worker's, with several) and its content type, with the
    change feed's lag when it could be read (a figure of the database, not a worker's)."""
    body = generate_latest(_SCRAPED)
    if feed_lag_seconds is not None:
        database = CollectorRegistry()
        Gauge(
            "wardsafe_changes_feed_lag_seconds",
            "Age of the oldest open transaction that writes: the change feed serves nothing "
            "committed after it began until it ends (docs/sync.md).",
            registry=database,
        ).set(feed_lag_seconds)
        body += generate_latest(database)
    return body, CONTENT_TYPE_LATEST


def check_scrape_token(authorization: str | None, token: str | None) -> None:
    """Refuse a scrape without ``Authorization: Bearer <token>`` when a token is set."""
    if token is None:
        return
    scheme, _, presented = (authorization or "").partition(" ")
    # Compared in constant time, so the answer's timing says nothing of the token.
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        presented.strip().encode(), token.encode()
    ):
        raise Unauthorized(
            "GET /metrics needs the metrics token: Authorization: Bearer <WARDSAFE_METRICS_TOKEN>.",
            challenge='Bearer realm="metrics"',
        )
