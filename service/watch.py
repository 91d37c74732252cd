"""Watching the serving model: the shadow challenger and drift, after each answer is sent.

Every classify request (single or JSON batch) hands its postings and answers to
:meth:`Watch.after`. The work is done when the response is closed, after gunicorn has sent
it, so the answer and its latency stay the serving model's:

- the drift measures of each posting are added to the shared window (``service.monitor_store``);
- if a shadow is set (``models/SHADOW``), it scores the same postings and the pair of calls is
  recorded, with the counters ``rolelens_shadow_requests_total`` and
  ``rolelens_shadow_disagreements_total``.

A failure here is logged and never reaches the client.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from classifier import drift
from classifier.artifacts import shadow_version
from classifier.labels import ML_ENGINEERING
from classifier.model import RoleClassifier
from classifier.prediction import Prediction
from service.errors import ModelUnavailable
from service.metrics import EXTENSION as METRICS
from service.metrics import Metrics
from service.model_holder import ModelHolder, load_and_check
from service.monitor_store import MonitorStore, ShadowCall

log = logging.getLogger("rolelens.watch")
EXTENSION = "rolelens.watch"


def posting_hash(text: str) -> str:
    """A short, stable name for a posting that does not reveal it."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class ShadowHolder:
    """The shadow classifier of one worker, following ``models/SHADOW`` (or None)."""

    def __init__(
        self,
        home: Path,
        interval: float = 1.0,
        loader: Callable[[Path, str], RoleClassifier] = load_and_check,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.home, self.interval, self._loader, self._clock = home, interval, loader, clock
        self._lock = threading.Lock()
        self._classifier: RoleClassifier | None = None
        self._wanted: str | None = None
        self._next_check = float("-inf")

    def get(self) -> RoleClassifier | None:
        """The shadow classifier, after a look at ``models/SHADOW`` if one is due."""
        with self._lock:
            if self._clock() >= self._next_check:
                self._next_check = self._clock() + self.interval
                self._refresh()
            return self._classifier

    def _refresh(self) -> None:
        wanted = shadow_version(self.home)
        if wanted == self._wanted:
            return
        self._wanted, self._classifier = wanted, None
        if wanted is None:
            return
        try:
            self._classifier = self._loader(self.home, wanted)
        except Exception as exc:  # the serving model is unaffected; say why in the log
            log.error("shadow version %s not loaded: %s", wanted, exc)


class Watch:
    """One app's shadow holder, shared store and settings."""

    def __init__(self, app: Flask, holder: ModelHolder) -> None:
        home = Path(app.config["HOME"])
        self.holder = holder
        self.shadow = ShadowHolder(home, float(app.config["RELOAD_INTERVAL"]))
        self.store = MonitorStore(home)
        self.keep_text = bool(app.config["SHADOW_KEEP_TEXT"])
        window = app.config["DRIFT_WINDOW"]
        if not isinstance(window, int) or isinstance(window, bool) or window < 1:
            raise ValueError(
                f"ROLELENS_DRIFT_WINDOW={window!r}: use a whole number of postings, at least 1"
            )
        self.window = window

    def after(
        self, response: Response, texts: Sequence[str], answers: Sequence[Prediction]
    ) -> None:
        """Watch these postings once ``response`` has been sent."""
        counters: Metrics = current_app.extensions[METRICS]
        response.call_on_close(lambda: self._observe(texts, answers, counters))

    def _observe(
        self, texts: Sequence[str], answers: Sequence[Prediction], counters: Metrics
    ) -> None:
        try:
            if answers:
                version = answers[0].model_version
                observed = [drift.observe(a) for a in answers]
                self.store.record_drift(version, observed, self.window)
            shadow = self.shadow.get()
            if shadow is not None and answers:
                self._score_shadow(shadow, texts, answers, counters)
        except Exception:
            log.exception("watching a classification failed; the answer was not affected")

    def _score_shadow(
        self,
        shadow: RoleClassifier,
        texts: Sequence[str],
        answers: Sequence[Prediction],
        counters: Metrics,
    ) -> None:
        calls = [
            ShadowCall(
                posting=posting_hash(text),
                serving=answer.model_version,
                serving_label=answer.label,
                shadow_label=theirs.label,
                p_serving=answer.probability[ML_ENGINEERING],
                p_shadow=theirs.probability[ML_ENGINEERING],
                text=text if self.keep_text else None,
            )
            for text, answer, theirs in zip(
                texts, answers, shadow.classify_many(texts), strict=True
            )
        ]
        self.store.record_shadow(shadow.version, calls)
        counters.shadow_requests.inc(len(calls))
        counters.shadow_disagreements.inc(sum(not c.agree for c in calls))

    def drift_report(self) -> dict[str, Any]:
        """Drift of the serving version: its window against its card's reference."""
        classifier = self.holder.get()
        reference = classifier.card.get("drift_reference")
        head: dict[str, Any] = {"version": classifier.version, "window": self.window}
        if not reference:
            return {
                **head,
                "status": "ok",
                "enough": False,
                "reasons": [],
                "detail": f"version {classifier.version} has no drift reference in its card "
                "(trained before drift was recorded); retrain to get one",
            }
        report = drift.compare(reference, self.store.drift_window(classifier.version, self.window))
        return {**head, "reference": reference, **report.to_dict()}


class DriftGauges(Collector):
    """``rolelens_drift_psi`` and ``rolelens_drift_oov_share``, read from the shared window."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        psi = GaugeMetricFamily(
            "rolelens_drift_psi", "PSI of P(ml_engineering), recent postings vs the reference"
        )
        oov = GaugeMetricFamily(
            "rolelens_drift_oov_share", "mean share of recent postings' tokens the model lacks"
        )
        try:
            report = watch(self.app).drift_report()
        except ModelUnavailable:
            report = {}
        if "psi" in report:
            psi.add_metric([], report["psi"])
            oov.add_metric([], report["oov_share"])
        yield psi
        yield oov


def watch(app: Flask | None = None) -> Watch:
    """The watch of ``app`` (default: the current app)."""
    found: Watch = (app or current_app).extensions[EXTENSION]
    return found


def init_app(app: Flask) -> None:
    """Give ``app`` its watch; call before ``service.metrics.init_app`` (it adds the gauges)."""
    app.extensions[EXTENSION] = Watch(app, app.extensions["rolelens"])
    app.extensions.setdefault("rolelens.collectors", []).append(DriftGauges(app))
