"""The JSON API under ``/api/v1``: classify one posting or a batch, and the serving card."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from classifier.model import RoleClassifier
from service.batch.endpoint import classify_table
from service.config import LIMIT_NAMES
from service.metrics import metrics
from service.model_holder import ModelHolder
from service.openapi import document
from service.postings import batch_body, classify_body
from service.watch import watch

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def holder() -> ModelHolder:
    """The app's model holder."""
    found: ModelHolder = current_app.extensions["rolelens"]
    return found


def serving() -> RoleClassifier:
    """The classifier for this request; its version is noted for the request log."""
    classifier = holder().get()
    g.model_version = classifier.version
    return classifier


@bp.post("/classify")
def classify() -> Response:
    """Classify one posting."""
    posting = classify_body(
        request, int(current_app.config["MAX_POSTING_CHARS"]), LIMIT_NAMES["MAX_POSTING_CHARS"]
    )
    prediction = serving().classify(posting.text)
    metrics().record_predictions([prediction])
    response = jsonify(prediction.to_dict())
    watch().after(response, [posting.text], [prediction])
    return response


@bp.post("/classify/batch")
def classify_batch() -> Response:
    """Classify several postings: JSON in and out, or a CSV file (``service.batch.endpoint``)."""
    if not request.is_json:
        return classify_table(request, serving)
    postings = batch_body(
        request,
        int(current_app.config["MAX_POSTING_CHARS"]),
        int(current_app.config["MAX_BATCH_SIZE"]),
        (LIMIT_NAMES["MAX_POSTING_CHARS"], LIMIT_NAMES["MAX_BATCH_SIZE"]),
    )
    classifier = serving()
    predictions = classifier.classify_many([p.text for p in postings])
    metrics().record_predictions(predictions, batch=True)
    results: list[dict[str, Any]] = [
        {"id": posting.id if posting.id is not None else n, **prediction.to_dict()}
        for n, (posting, prediction) in enumerate(zip(postings, predictions, strict=True))
    ]
    response = jsonify(
        {"model_version": classifier.version, "count": len(results), "results": results}
    )
    watch().after(response, [p.text for p in postings], predictions)
    return response


@bp.get("/model")
def model() -> Response:
    """The serving model's card, as loaded with it."""
    return jsonify(serving().card)


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document of this API."""
    return jsonify(document(current_app.config))
