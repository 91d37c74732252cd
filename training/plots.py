"""The reliability diagram and ROC curve of a version, drawn at training time when possible.

matplotlib is optional (in the rolelens folder: ``.venv/bin/pip install -e '.[plot]'``):
without it a version simply has no picture, and its card says why.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from classifier.artifacts import PLOT_FILE
from training.errors import TrainingError
from training.evaluate import plot

NO_MATPLOTLIB = (
    "matplotlib was not installed when this version was trained "
    "(in the rolelens folder: .venv/bin/pip install -e '.[plot]')"
)


def draw(labels: Sequence[str], p_ml: Sequence[float]) -> tuple[bytes | None, str | None]:
    """The PNG of the reliability diagram and ROC curve, or None and the reason there is none."""
    with tempfile.TemporaryDirectory(prefix="rolelens-plot-") as folder:
        path = Path(folder) / PLOT_FILE
        try:
            plot(path, labels, p_ml)
        except TrainingError:
            return None, NO_MATPLOTLIB
        return path.read_bytes(), None
