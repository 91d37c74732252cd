"""The two labels rolelens knows, how to say them to a person, and a labeled phrase.

Labels are plain strings handed straight to scikit-learn; the fitted model's ``classes_``
gives their order. For a binary model scikit-learn keeps one coefficient row, the one for
``classes_[1]``, which is :data:`ML_ENGINEERING` (labels sort alphabetically).
"""

from __future__ import annotations

from dataclasses import dataclass

DATA_SCIENCE = "data_science"
ML_ENGINEERING = "ml_engineering"
LABELS: tuple[str, str] = (DATA_SCIENCE, ML_ENGINEERING)
# The verdict for a posting that holds too little of either role's vocabulary: not a label
# the model is trained on, only a headline over its leaning.
NEITHER = "neither"
VERDICTS: tuple[str, str, str] = (DATA_SCIENCE, ML_ENGINEERING, NEITHER)

HUMAN: dict[str, str] = {
    DATA_SCIENCE: "data-science-leaning",
    ML_ENGINEERING: "ML-engineering-leaning",
}
TOWARD: dict[str, str] = {DATA_SCIENCE: "data science", ML_ENGINEERING: "ML engineering"}
NEITHER_HEADLINE = "Not a data-science or ML-engineering posting"


# Where training phrases come from: the packs shipped in fixtures/phrases/, and the store.
PACKS: tuple[str, ...] = ("seed", "curated")
SOURCES: tuple[str, ...] = (*PACKS, "user")


@dataclass(frozen=True)
class TrainingPhrase:
    """One labeled phrase a model is trained on, and where it came from."""

    text: str
    label: str
    source: str
