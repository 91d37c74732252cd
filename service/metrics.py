"""Prometheus metrics of one app, served as text at ``GET /metrics``.

=========================================  ========  ====================================
name                                       type      labels, meaning
=========================================  ========  ====================================
rolelens_http_requests_total               counter   endpoint (route), method, status
rolelens_http_request_duration_seconds     histogram endpoint
rolelens_postings_classified_total         counter   verdict, label, strength (single and batch)
rolelens_postings_warned_total             counter   postings whose evidence carried a
                                                     warning; the share is this over the
                                                     sum of postings_classified_total
rolelens_batch_rows_total                  counter   postings classified in batch requests
rolelens_retrains_total                    counter   outcome: promoted, refused, failed
rolelens_rollbacks_total                   counter   outcome: promoted, refused, failed
rolelens_model_info                        info      version: the model this worker serves
rolelens_shadow_requests_total             counter   postings the shadow version scored too
rolelens_shadow_disagreements_total        counter   of those, where its label differed
rolelens_drift_psi                         gauge     PSI of P(ml_engineering), recent
                                                     postings against the card's reference
rolelens_drift_oov_share                   gauge     mean share of recent postings' tokens
                                                     outside the model's vocabulary
=========================================  ========  ====================================

The drift gauges are read at scrape time from the window all workers share
(``service.watch``), so every worker reports the same figures.

Retrains and rollbacks are counted when they are asked for over HTTP (the command line runs
in its own process). In one process (tests, the Flask client) every metric lives in the
app's own ``CollectorRegistry``: two apps never share counts. Under gunicorn with
``PROMETHEUS_MULTIPROC_DIR`` set (``service.multiproc``), each worker writes its counts to
files there and a scrape adds up every worker's files, whichever worker answers it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import InfoMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from classifier.prediction import Prediction
from service.errors import ModelUnavailable
from service.model_holder import ModelHolder
from service.multiproc import ENV as MULTIPROC_ENV

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
EXTENSION = "rolelens.metrics"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OUTCOMES = ("promoted", "refused", "failed")
UNMATCHED = "unmatched"  # the endpoint label when no route matched (404, 405)

bp = Blueprint("metrics", __name__)

#: ``GET /metrics`` in the OpenAPI document.
OPENAPI_OPERATION = {
    "summary": "Prometheus metrics (text exposition format 0.0.4)",
    "description": "requests by route and status, latency histograms, postings by label and "
    "strength, postings with an evidence warning, batch rows, retrains and rollbacks by "
    "outcome, the serving model version, shadow requests and disagreements, drift PSI and "
    "OOV share; added up across gunicorn workers",
    "operationId": "metrics",
    "responses": {
        "200": {
            "description": "the metrics",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
}


class ModelInfo(Collector):
    """The serving model version as an info metric, read at scrape time from the holder.

    An ``Info`` metric cannot be shared between processes, so this collector answers for
    the worker that serves the scrape (all workers follow ``models/CURRENT`` within a second).
    """

    def __init__(self, holder: ModelHolder) -> None:
        self.holder = holder

    def collect(self) -> Iterator[InfoMetricFamily]:
        family = InfoMetricFamily("rolelens_model", "the model version this worker serves")
        with suppress(ModelUnavailable):  # no model yet: an empty family; /readyz says why
            family.add_metric([], {"version": self.holder.get().version})
        yield family


class Metrics:
    """The metrics of one app, registered in its own registry."""

    def __init__(self, holder: ModelHolder, collectors: Iterable[Collector] = ()) -> None:
        self.registry = CollectorRegistry()
        self.model_info = ModelInfo(holder)
        self.collectors = [self.model_info, *collectors]
        for collector in self.collectors:
            self.registry.register(collector)
        reg = self.registry
        self.requests = Counter(
            "rolelens_http_requests",
            "HTTP requests answered, by route, method and status",
            ["endpoint", "method", "status"],
            registry=reg,
        )
        self.latency = Histogram(
            "rolelens_http_request_duration_seconds",
            "time from request to response, by route",
            ["endpoint"],
            buckets=BUCKETS,
            registry=reg,
        )
        self.postings = Counter(
            "rolelens_postings_classified",
            "postings classified, by verdict, leaning (label) and strength of the call",
            ["verdict", "label", "strength"],
            registry=reg,
        )
        self.warned = Counter(
            "rolelens_postings_warned",
            "postings classified with an evidence warning (too little role vocabulary)",
            registry=reg,
        )
        self.batch_rows = Counter(
            "rolelens_batch_rows", "postings classified in batch requests", registry=reg
        )
        self.shadow_requests = Counter(
            "rolelens_shadow_requests", "postings the shadow version scored too", registry=reg
        )
        self.shadow_disagreements = Counter(
            "rolelens_shadow_disagreements",
            "postings where the shadow version's label differed from the serving one's",
            registry=reg,
        )
        self.admin = {
            action: Counter(
                f"rolelens_{action}s",
                f"{action}s asked for over HTTP, by outcome (promoted, refused, failed)",
                ["outcome"],
                registry=reg,
            )
            for action in ("retrain", "rollback")
        }
        for counter in self.admin.values():  # every outcome shows, at 0 until it happens
            for outcome in OUTCOMES:
                counter.labels(outcome)

    def record_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        method = method if method in METHODS else "other"
        self.requests.labels(endpoint, method, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)

    def record_predictions(self, predictions: Iterable[Prediction], batch: bool = False) -> None:
        """Count classified postings by verdict, label and strength, and those warned."""
        count = 0
        for prediction in predictions:
            count += 1
            self.postings.labels(prediction.verdict, prediction.label, prediction.strength).inc()
            if prediction.evidence.warning:
                self.warned.inc()
        if batch:
            self.batch_rows.inc(count)

    @contextmanager
    def outcome(self, action: str, refused: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
        """Count the block as ``promoted``, or ``refused`` / ``failed`` by what it raised."""
        counter = self.admin[action]
        try:
            yield
        except refused:
            counter.labels("refused").inc()
            raise
        except BaseException:
            counter.labels("failed").inc()
            raise
        counter.labels("promoted").inc()

    def count_outcome(self, action: str, status: str) -> None:
        """Count one finished job by its status (``promoted``, ``refused``, else ``failed``)."""
        self.admin[action].labels(status if status in ("promoted", "refused") else "failed").inc()

    def exposition(self) -> bytes:
        """The text exposition: every worker's counts in multiprocess mode, else this app's."""
        if not os.environ.get(MULTIPROC_ENV):
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        for collector in self.collectors:
            registry.register(collector)
        return generate_latest(registry)


def metrics() -> Metrics:
    """The metrics of the current app."""
    found: Metrics = current_app.extensions[EXTENSION]
    return found


@bp.get("/metrics")
def scrape() -> Response:
    """Prometheus text exposition of this service's metrics."""
    return Response(metrics().exposition(), content_type=CONTENT_TYPE)


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _finish(response: Response) -> Response:
    started = g.get("metrics_started")
    seconds = time.perf_counter() - started if started is not None else 0.0
    endpoint = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    metrics().record_request(endpoint, request.method, response.status_code, seconds)
    return response


def init_app(app: Flask) -> None:
    """Give ``app`` its own metrics, count every request, and serve ``/metrics``."""
    collectors = app.extensions.get("rolelens.collectors", ())
    app.extensions[EXTENSION] = Metrics(app.extensions["rolelens"], collectors)
    app.before_request(_start)
    app.after_request(_finish)
    app.register_blueprint(bp)
