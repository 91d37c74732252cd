"""Model quality, side by side: a plain baseline, the seed-only model, the default model.

Reads the real postings in ../shared/data/dev_postings.csv when that folder is beside the
checkout (description column only; the title would give the answer away), else the
project's own fixtures/postings/validation.csv. For each model it prints accuracy, macro-F1,
ROC-AUC, Brier, ECE, the accuracy of each strength band and the verdict counts; then, for the
default model, what its reasons look like (the top-5 key phrases of every posting) and how
it does on the project's own fixtures: the share of other jobs' postings called ``neither``,
the share of mixed-role postings called ``clear``, and the validation gate's figures.
Asserts nothing.

    .venv/bin/python bench/quality.py [--data FILE --text-column C --label-column L]
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from classifier.labels import NEITHER  # noqa: E402
from classifier.model import RoleClassifier  # noqa: E402
from classifier.prediction import Prediction  # noqa: E402
from training.evaluate import Report, read_labeled, score, score_predictions  # noqa: E402
from training.phrases import load_packs  # noqa: E402
from training.retrain import retrain  # noqa: E402

DEV = REPO.parent / "shared" / "data" / "dev_postings.csv"
POSTINGS = REPO / "fixtures" / "postings"

# Words that any job posting uses, whatever the role: a key phrase that is one of these
# alone is no reason at all. Written for this benchmark; the code has no list like it.
GENERIC_WORDS = """
    experience experienced years year work working team teams company role roles job jobs
    skills skill ability strong knowledge opportunity opportunities environment join looking
    help support new great responsibilities requirements qualifications preferred required
    plus benefits salary culture mission people time best ideal candidate candidates
    position understanding excellent good like cross user users growth problems problem
    including across well able make within based also using various related success passion
    impact
"""
GENERIC = frozenset(GENERIC_WORDS.split())
# Words that name a whole field rather than a piece of work: fine inside a phrase, a weak
# reason on their own.
BROAD_WORDS = """
    data business product products analysis analytics research model models system systems
    software engineering science technology technical development solutions customer
    customers platform methods results quality information
"""
BROAD = frozenset(BROAD_WORDS.split())
# A key phrase must not run across a sentence or list boundary.
BOUNDARY = re.compile(r"[;:!?\n\r\t•·▪‣◦●■►,]|\.(?!\w)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--text-column")
    parser.add_argument("--label-column", default="label")
    args = parser.parse_args()
    if args.data is None:
        args.data = DEV if DEV.is_file() else POSTINGS / "validation.csv"
    text_column = args.text_column or ("description" if args.data == DEV else "text")
    texts, labels = read_labeled(args.data, text_column, args.label_column)
    print(f"quality on {args.data} ({len(texts)} postings, column {text_column!r})")
    print(
        f"{'model':<46} {'acc':>6} {'macroF1':>8} {'ROC-AUC':>8} {'Brier':>6} {'ECE':>6}"
        "  strength bands: n (accuracy)                 verdicts ds/ml/neither"
    )

    seed = load_packs(["seed"])
    plain = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression())
    plain.fit([p.text for p in seed], [p.label for p in seed])
    baseline = score(labels, list(plain.predict_proba(texts)[:, 1]))
    print(f"{'baseline: plain TF-IDF(1-2)+LR, seed phrases':<46} {_figures(baseline)}")

    default: RoleClassifier | None = None
    predictions: list[Prediction] = []
    for packs in (("seed",), ("seed", "curated")):
        with tempfile.TemporaryDirectory() as home:
            started = time.perf_counter()
            retrain(Path(home), packs)
            took = time.perf_counter() - started
            default = RoleClassifier.from_registry(Path(home))
        predictions = default.classify_many(texts)
        report = score_predictions(labels, predictions)
        name = f"rolelens --packs {','.join(packs)} (trained in {took:.1f}s)"
        print(f"{name:<46} {_figures(report)}  {_bands(report.by_strength)}  {_verdicts(report)}")
    assert default is not None
    print()
    _reasons(predictions)
    print()
    _fixtures(default)


def _figures(r: Report) -> str:
    return (
        f"{r.accuracy:>6.3f} {r.macro_f1:>8.3f} {r.roc_auc or 0:>8.3f} "
        f"{r.brier:>6.3f} {r.ece:>6.3f}"
    )


def _bands(by_strength: dict[str, dict[str, float | None]]) -> str:
    return "  ".join(
        f"{band} {f['n']}" + ("" if f["accuracy"] is None else f" ({f['accuracy']:.3f})")
        for band, f in by_strength.items()
    )


def _verdicts(report: Report) -> str:
    return "/".join(str(n) for n in report.verdicts.values())


def _reasons(predictions: Sequence[Prediction]) -> None:
    """How the default model's top-5 key phrases read, over all postings."""
    top = [phrase.text for p in predictions for phrase in p.key_phrases[:5]]
    single = [text.lower() for text in top if len(text.split()) == 1]
    generic = sum(word in GENERIC for word in single)
    broad = sum(word in BROAD for word in single)
    crossing = [text for text in top if BOUNDARY.search(text)]
    words = sum(len(text.split()) for text in top) / max(len(top), 1)
    print(f"top-5 key phrases of the default model: {len(top)} phrases, {words:.2f} words each")
    print(f"  a single generic posting word: {generic / max(len(top), 1):.3f}  (target 0)")
    print(f"  a single broad word:           {broad / max(len(top), 1):.3f}  (target <= 0.10)")
    print(f"  crossing a boundary:           {len(crossing) / max(len(top), 1):.3f}  (target 0)")
    for text in crossing[:5]:
        print(f"    e.g. {text!r}")


def _fixtures(classifier: RoleClassifier) -> None:
    """The default model on the project's own postings: other jobs, mixed roles, validation."""
    others = _texts(POSTINGS / "other_roles.csv")
    called = classifier.classify_many(others)
    neither = sum(p.verdict == NEITHER for p in called)
    print(
        f"other_roles.csv: {neither}/{len(others)} = {neither / len(others):.3f} called neither"
        "  (target >= 0.95)"
    )
    mixed = classifier.classify_many(_texts(POSTINGS / "mixed_roles.csv"))
    clear = sum(p.strength == "clear" for p in mixed)
    print(
        f"mixed_roles.csv: {clear}/{len(mixed)} = {clear / len(mixed):.3f} called clear"
        "  (target <= 0.10)"
    )
    texts, labels = read_labeled(POSTINGS / "validation.csv", "text", "label")
    report = score_predictions(labels, classifier.classify_many(texts))
    print(
        f"validation.csv (the retrain gate, n={report.n}): macro-F1 {report.macro_f1:.3f}, "
        f"ROC-AUC {report.roc_auc or 0:.3f}, Brier {report.brier:.3f}; "
        f"{_bands(report.by_strength)}"
    )


def _texts(path: Path) -> list[str]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


if __name__ == "__main__":
    main()
