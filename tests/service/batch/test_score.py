"""A batch row gives the page's reasons: its key phrases are the first N of ``classify``."""

from __future__ import annotations

import csv
import io
import json
import pickle
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings

from classifier.labels import ML_ENGINEERING
from classifier.model import RoleClassifier
from service.batch.run import BatchOptions, open_table, run_batch
from service.batch.score import MAX_KEY_PHRASES, ScoredRow, Scorer
from service.batch.write import PHRASE_SEPARATOR, neutralise
from service.cli import cli
from tests.classifier.strategies import mixed_text

ROLE_WORDS = [
    "deploy",
    "models",
    "production",
    "Kubernetes",
    "pipelines",
    "A/B tests",
    "dashboards",
    "statistical",
    "insights",
    "stakeholders",
    "SQL",
    "monitoring",
    ".",
    ";",
    "\n",
    "-",
]


def first_key_phrases(classifier: RoleClassifier, text: str, n: int) -> list[str]:
    """What the page shows first for ``text``: its first ``n`` key phrases, in order."""
    return [phrase.text for phrase in classifier.classify(text).key_phrases[:n]]


def _csv(texts: list[str]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerows([["id", "description"], *([str(i), t] for i, t in enumerate(texts))])
    return out.getvalue().encode("utf-8")


def _batch(home: Path, folder: Path, texts: list[str], output: str, *options: str) -> Path:
    """``rolelens batch`` of ``texts`` (as a CSV) into ``folder / output``; that file."""
    source, target = folder / "in.csv", folder / output
    source.write_bytes(_csv(texts))
    result = CliRunner().invoke(
        cli,
        ["batch", str(source), "-o", str(target), "--quiet", *options],
        env={"ROLELENS_HOME": str(home)},
    )
    assert result.exit_code == 0, result.output
    return target


@pytest.mark.parametrize(
    ("options", "n"),
    [
        ([], 5),  # the default
        (["--key-phrases", "1"], 1),  # only the strongest
        (["--key-phrases", str(MAX_KEY_PHRASES), "--jobs", "2"], MAX_KEY_PHRASES),  # workers
    ],
)
def test_the_csv_gives_the_first_key_phrases_of_classify_for_every_fixture_posting(
    trained_home: Path,
    classifier: RoleClassifier,
    tmp_path: Path,
    fixture_texts: list[str],
    options: list[str],
    n: int,
) -> None:
    texts = fixture_texts
    target = _batch(trained_home, tmp_path, texts, "out.csv", *options)
    with open(target, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(texts)
    for text, row in zip(texts, rows, strict=True):
        expected = first_key_phrases(classifier, text, n)
        assert expected, text[:60]  # a real posting always has reasons
        assert row["key_phrases"] == neutralise(PHRASE_SEPARATOR.join(expected)), text[:60]


def test_jsonl_lists_the_same_phrases_as_classify(
    trained_home: Path, classifier: RoleClassifier, tmp_path: Path, fixture_texts: list[str]
) -> None:
    texts = fixture_texts
    target = _batch(trained_home, tmp_path, texts, "out.jsonl", "--key-phrases", "3")
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [row["key_phrases"] for row in rows] == [
        first_key_phrases(classifier, text, 3) for text in texts
    ]


@settings(max_examples=60, deadline=None)
@given(texts=mixed_text(ROLE_WORDS, max_parts=30).map(lambda t: [t, "=" + t, "Deploy " + t]))
def test_any_text_gets_the_key_phrases_of_classify(
    trained_home: Path, classifier: RoleClassifier, texts: list[str]
) -> None:
    scorer = Scorer(classifier)
    out = io.StringIO(newline="")
    options = BatchOptions()
    run_batch(open_table(io.BytesIO(_csv(texts)), options), out, scorer, options)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    for text, row in zip(texts, rows, strict=True):
        if not text.strip():
            assert row["error"] == "no text in column 'description'"
            continue
        expected = PHRASE_SEPARATOR.join(first_key_phrases(classifier, text, 5))
        assert row["key_phrases"] == neutralise(expected)


def test_a_row_has_the_label_verdict_probability_and_strength_of_classify(
    classifier: RoleClassifier, fixture_texts: list[str]
) -> None:
    texts = fixture_texts
    rows = Scorer(classifier, key_phrases=2).score(texts)
    for text, row in zip(texts, rows, strict=True):
        single = classifier.classify(text)
        assert row == ScoredRow(
            single.label,
            single.verdict,
            single.probability[ML_ENGINEERING],
            single.strength,
            tuple(p.text for p in single.key_phrases[:2]),
        )


def test_a_scorer_sent_to_a_worker_loads_its_version_from_the_registry(
    trained_home: Path,
) -> None:
    scorer = Scorer.from_registry(trained_home, key_phrases=3)
    copy = pickle.loads(pickle.dumps(scorer))
    assert len(pickle.dumps(scorer)) < 1_000  # the folder and version, not the model
    assert copy.version == scorer.version and copy.key_phrases == 3
    text = "Deploy models to production with Kubernetes"
    assert copy.score([text]) == scorer.score([text])


@pytest.mark.parametrize("n", [-1, MAX_KEY_PHRASES + 1])
def test_a_key_phrase_count_out_of_range_is_refused(classifier: RoleClassifier, n: int) -> None:
    with pytest.raises(ValueError, match=f"from 0 to {MAX_KEY_PHRASES}"):
        Scorer(classifier, key_phrases=n)
