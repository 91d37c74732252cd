"""Model quality, side by side: a plain baseline, the seed-only model, the default model.

Reads the real postings in ../shared/data/dev_postings.csv when that folder is beside the
checkout (description column only; the title would give the answer away), else the
project's own fixtures/postings/validation.csv. Prints one row per model; asserts nothing.

    .venv/bin/python bench/quality.py [--data FILE --text-column C --label-column L]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from classifier.labels import ML_ENGINEERING  # noqa: E402
from classifier.model import RoleClassifier  # noqa: E402
from training.evaluate import read_labeled, score  # noqa: E402
from training.phrases import load_packs  # noqa: E402
from training.retrain import retrain  # noqa: E402

DEV = REPO.parent / "shared" / "data" / "dev_postings.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--text-column")
    parser.add_argument("--label-column", default="label")
    args = parser.parse_args()
    if args.data is None:
        args.data = DEV if DEV.is_file() else REPO / "fixtures" / "postings" / "validation.csv"
    text_column = args.text_column or ("description" if args.data == DEV else "text")
    texts, labels = read_labeled(args.data, text_column, args.label_column)
    print(f"quality on {args.data} ({len(texts)} postings, column {text_column!r})")
    print(f"{'model':<44} {'acc':>6} {'macroF1':>8} {'ROC-AUC':>8} {'Brier':>6} {'ECE':>6}")

    def row(name: str, p_ml: list[float]) -> None:
        r = score(labels, p_ml)
        print(
            f"{name:<44} {r.accuracy:>6.3f} {r.macro_f1:>8.3f} {r.roc_auc or 0:>8.3f} "
            f"{r.brier:>6.3f} {r.ece:>6.3f}"
        )

    seed = load_packs(["seed"])
    plain = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression())
    plain.fit([p.text for p in seed], [p.label for p in seed])
    row("baseline: plain TF-IDF(1-2)+LR, seed phrases", list(plain.predict_proba(texts)[:, 1]))

    for packs in (("seed",), ("seed", "curated")):
        with tempfile.TemporaryDirectory() as home:
            started = time.perf_counter()
            retrain(Path(home), packs)
            took = time.perf_counter() - started
            classifier = RoleClassifier.from_registry(Path(home))
            p_ml = [p.probability[ML_ENGINEERING] for p in classifier.classify_many(texts)]
            row(f"rolelens --packs {','.join(packs)} (trained in {took:.1f}s)", p_ml)


if __name__ == "__main__":
    main()
