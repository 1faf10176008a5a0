"""Prometheus metrics at ``GET /metrics``, correct with several gunicorn workers.

Metrics (all prefixed ``triangulate_``):

* ``http_requests_total{method, route, status}``: answered requests. ``route`` is the URL
  rule (``/v1/reconcile``, ``/v1/questions/<question_id>``), never the raw path, so the number
  of series stays bounded whatever clients send; a path that matches no rule is ``unmatched``.
* ``http_request_duration_seconds{method, route}``: latency histogram, from the first
  ``before_request`` function to the response leaving the app.
* ``http_requests_in_progress``: requests being served, summed over live workers.
* ``reconcile_duration_seconds{method}``: time spent in :func:`models.reconcile.reconcile`, by
  the estimator it chose (``robust``, ``random_effects``, ``fixed_effect``; ``error`` when it
  refused the input). Views call the core through :func:`timed_reconcile`.
* ``reconcile_claims``: claims per reconcile call (histogram).

Several workers: when ``PROMETHEUS_MULTIPROC_DIR`` is set (``service/deploy/gunicorn_conf.py`` sets
it
before the workers start), prometheus_client keeps each process's samples in memory-mapped
files there, and the endpoint sums them with a ``MultiProcessCollector``. Without it (tests, the
CLI), the process's own registry is served. ``METRICS_ENABLED=false`` leaves all of this out.

Expose ``/metrics`` to the scraper only (a reverse proxy rule or a private network): it tells
anyone how busy the service is and which routes fail.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess

if TYPE_CHECKING:
    from models.claims import Claim, Source
    from models.result import ReconcileResult

__all__ = [
    "CLAIM_BUCKETS",
    "LATENCY_BUCKETS",
    "UNMATCHED",
    "init_app",
    "timed_reconcile",
]

#: Seconds; from well under the 10-claim reconcile (~3 ms) to GUNICORN_TIMEOUT's default.
LATENCY_BUCKETS: Final = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)
#: Claims per call, up to MAX_CLAIMS' default.
CLAIM_BUCKETS: Final = (1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
#: ``route`` label of a request that matched no URL rule (404, and 405 on no rule).
UNMATCHED: Final = "unmatched"
_STARTED: Final = "triangulate.metrics_started"

# prometheus_client's metrics are process-wide by design; this module is imported once per
# process (by create_app), after gunicorn_conf has set PROMETHEUS_MULTIPROC_DIR.
REQUESTS: Final = Counter(
    "triangulate_http_requests",
    "HTTP requests answered, by method, URL rule and status.",
    ["method", "route", "status"],
)
LATENCY: Final = Histogram(
    "triangulate_http_request_duration_seconds",
    "Time to answer an HTTP request in the app, by method and URL rule.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
IN_PROGRESS: Final = Gauge(
    "triangulate_http_requests_in_progress",
    "HTTP requests being answered, summed over live workers.",
    multiprocess_mode="livesum",
)
RECONCILE_SECONDS: Final = Histogram(
    "triangulate_reconcile_duration_seconds",
    "Time spent in models.reconcile, by the estimator used (error: input refused).",
    ["method"],
    buckets=LATENCY_BUCKETS,
)
RECONCILE_CLAIMS: Final = Histogram(
    "triangulate_reconcile_claims",
    "Claims per reconcile call.",
    buckets=CLAIM_BUCKETS,
)

blp = Blueprint("metrics", __name__)


@blp.get("/metrics")
def metrics() -> Response:
    """The samples of every worker in Prometheus' text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_PLAIN_0_0_4)


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def _start() -> None:
    request.environ[_STARTED] = time.perf_counter()
    IN_PROGRESS.inc()


def _record(response: Response) -> Response:
    started = request.environ.get(_STARTED)
    route = _route()
    REQUESTS.labels(request.method, route, str(response.status_code)).inc()
    if started is not None:
        LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
    return response


def _finish(exc: BaseException | None) -> None:
    if request.environ.pop(_STARTED, None) is not None:
        IN_PROGRESS.dec()


def init_app(app: Flask) -> None:
    """Count the requests of ``app`` and serve ``/metrics`` (when ``METRICS_ENABLED``)."""
    if not app.config["METRICS_ENABLED"]:
        return
    app.register_blueprint(blp)
    app.before_request(_start)
    app.after_request(_record)
    app.teardown_request(_finish)


def timed_reconcile(
    reconcile: Callable[..., ReconcileResult],
    claims: Sequence[Claim],
    sources: Sequence[Source],
    **options: Any,
) -> ReconcileResult:
    """Call ``reconcile(claims, sources, **options)`` (:func:`models.reconcile.reconcile`),
    timed and counted when metrics are enabled.

    The function is passed in, rather than imported here, so that a view keeps its own
    reference to the core (which tests replace).
    """
    if not current_app.config.get("METRICS_ENABLED"):
        return reconcile(claims, sources, **options)
    method = "error"
    started = time.perf_counter()
    try:
        result = reconcile(claims, sources, **options)
        method = str(result.method)
        return result
    finally:
        RECONCILE_SECONDS.labels(method).observe(time.perf_counter() - started)
        RECONCILE_CLAIMS.observe(len(claims))
