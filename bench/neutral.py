"""Ways of using the neutral pack in training, side by side.

Trains the default phrases (seed + curated) with the neutral pack used four ways and prints,
for each: macro-F1, ROC-AUC and ECE on the measuring postings, the share of the project's
other-job postings called ``neither``, and the weight a few words every posting uses ends up
with. The default model uses the penalty (``neutral_penalty=1``); see training/train.py.

    .venv/bin/python bench/neutral.py [--data FILE --text-column C]
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from classifier.labels import NEITHER  # noqa: E402
from classifier.model import RoleClassifier  # noqa: E402
from training.evaluate import read_labeled, score_predictions  # noqa: E402
from training.phrases import load_packs, read_neutral  # noqa: E402
from training.pipeline import to_model  # noqa: E402
from training.train import TrainingParams, train  # noqa: E402

DEV = REPO.parent / "shared" / "data" / "dev_postings.csv"
POSTINGS = REPO / "fixtures" / "postings"
SHARED_WORDS = ("experience", "team", "company", "business", "data", "product")
OPTIONS = {
    "not used (IDF only)": TrainingParams(neutral_penalty=0.0),
    "rows under both labels, weight 1": TrainingParams(neutral_penalty=0.0, neutral_weight=1.0),
    "rows under both labels, weight 3": TrainingParams(neutral_penalty=0.0, neutral_weight=3.0),
    "penalty 0.5": TrainingParams(neutral_penalty=0.5),
    "penalty 1 (default)": TrainingParams(),
    "penalty 1 + rows, weight 1": TrainingParams(neutral_weight=1.0),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--text-column")
    args = parser.parse_args()
    data = args.data or (DEV if DEV.is_file() else POSTINGS / "validation.csv")
    column = args.text_column or ("description" if data == DEV else "text")
    texts, labels = read_labeled(data, column, "label")
    with open(POSTINGS / "other_roles.csv", encoding="utf-8", newline="") as handle:
        others = [row["text"] for row in csv.DictReader(handle)]
    phrases, neutral = load_packs(["seed", "curated"]), read_neutral()
    print(f"on {data} ({len(texts)} postings); other jobs: {len(others)} postings")
    print(f"{'neutral pack':<36} {'F1':>6} {'AUC':>6} {'ECE':>6} {'neither':>8}  weights")
    for name, params in OPTIONS.items():
        model = train(phrases, params, neutral)
        card = {"version": name, "strength_band": model.strength_band, "evidence": model.evidence}
        classifier = RoleClassifier(to_model(model.pipeline), card, model.phrases)
        report = score_predictions(labels, classifier.classify_many(texts))
        neither = sum(p.verdict == NEITHER for p in classifier.classify_many(others))
        weights = " ".join(
            f"{word} {classifier.coef[classifier.model.features.index(word)]:+.2f}"
            for word in SHARED_WORDS
            if word in classifier.model.features
        )
        print(
            f"{name:<36} {report.macro_f1:>6.3f} {report.roc_auc or 0:>6.3f} "
            f"{report.ece:>6.3f} {neither / len(others):>8.3f}  {weights}"
        )


if __name__ == "__main__":
    main()
