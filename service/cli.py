"""The ``rolelens`` command line: thin shells over the classifier and training libraries.

Exit codes: 0 ok, 1 failed, 2 bad usage or bad input, with one line saying what to fix.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from classifier.artifacts import current_version, read_card
from classifier.batch_input import TEXT_COLUMNS
from classifier.errors import InvalidPosting, ModelNotFound, RolelensError
from classifier.labels import ML_ENGINEERING
from classifier.model import RoleClassifier
from classifier.prediction import Prediction
from service.cli_batch import batch
from service.config import data_home
from training.errors import PromotionRefused, TrainingError
from training.evaluate import evaluate as run_evaluation
from training.evaluate import plot, read_labeled
from training.phrases import PACKS
from training.registry import list_versions
from training.retrain import retrain


class Failure(click.ClickException):
    """A command that could not do its work; ``exit_code`` says whether input was at fault."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Group(click.Group):
    """Turns rolelens errors into one line on stderr and the documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PromotionRefused as exc:
            raise Failure(str(exc), 1) from None
        except (InvalidPosting, TrainingError, ModelNotFound) as exc:
            raise Failure(str(exc), 2) from None
        except RolelensError as exc:
            raise Failure(str(exc), 1) from None


@click.group(cls=Group)
@click.version_option(package_name="rolelens")
def cli() -> None:
    """rolelens: does a job posting lean toward data science or ML engineering, and why?"""


def _packs(value: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = [name for name in names if name not in PACKS]
    if not names or unknown:
        raise click.BadParameter(f"use a comma-separated list of: {', '.join(PACKS)}")
    return names


@cli.command()
@click.option("--packs", default="seed,curated", show_default=True,
              help="Comma-separated phrase packs to train on.")
@click.option("--force", is_flag=True, help="Promote even if validation macro-F1 dropped.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def train(packs: str, force: bool, as_json: bool) -> None:
    """Train a model, check it, and promote it to serving."""
    result = retrain(data_home(), _packs(packs), force=force)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    figures = result.validation
    click.echo(
        f"version {result.version} now serves (validation: macro-F1 {figures['macro_f1']:.3f}, "
        f"ROC-AUC {figures['roc_auc']:.3f}, n={figures['n']})"
    )
    if result.previous:
        click.echo(f"previous version: {result.previous}")


def _read_posting(text: str | None, file: Path | None) -> str:
    if file is not None and text is not None:
        raise click.UsageError("give the posting as TEXT or with --file, not both")
    if file is not None:
        return file.read_text(encoding="utf-8-sig", errors="replace")
    if text is None or text == "-":
        if sys.stdin.isatty():
            raise click.UsageError("give the posting as TEXT, with --file, or on stdin")
        return sys.stdin.read()
    return text


def _describe(prediction: Prediction) -> str:
    p_ml = prediction.probability[ML_ENGINEERING]
    lines = [
        f"{prediction.leaning} ({prediction.strength}): P(ml_engineering) = {p_ml:.2f}"
        f"   [model {prediction.model_version}]"
    ]
    for title, phrases in (("key phrases", prediction.key_phrases),
                           ("counter phrases", prediction.counter_phrases)):
        if phrases:
            shown = ", ".join(f"{p.text!r} ({p.weight:+.2f})" for p in phrases[:6])
            lines.append(f"{title}: {shown}")
    if prediction.evidence.warning:
        lines.append(f"warning: {prediction.evidence.warning}")
    return "\n".join(lines)


@cli.command()
@click.argument("text", required=False)
@click.option("-f", "--file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read the posting from a file.")
@click.option("--json", "as_json", is_flag=True, help="Print the full prediction as JSON.")
def classify(text: str | None, file: Path | None, as_json: bool) -> None:
    """Classify one posting given as TEXT, with --file, or on stdin (TEXT '-')."""
    posting = _read_posting(text, file)
    prediction = RoleClassifier.from_registry(data_home()).classify(posting)
    if as_json:
        click.echo(json.dumps(prediction.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(_describe(prediction))


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--text-column", help="Column holding the posting (default: description/text…).")
@click.option("--label-column", default="label", show_default=True)
@click.option("--version", "version", help="Model version to evaluate (default: serving).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a reliability diagram and ROC curve to this PNG.")
def evaluate(file: Path, text_column: str | None, label_column: str, version: str | None,
             as_json: bool, plot_path: Path | None) -> None:
    """Score the model on a CSV of labeled postings."""
    if text_column is None:
        with open(file, encoding="utf-8-sig", newline="") as handle:
            header = handle.readline().strip().split(",")
        text_column = next((c for c in TEXT_COLUMNS if c in header), TEXT_COLUMNS[0])
    texts, labels = read_labeled(file, text_column, label_column)
    classifier = RoleClassifier.from_registry(data_home(), version)
    report = run_evaluation(classifier, texts, labels)
    if plot_path is not None:
        predictions = classifier.classify_many(texts)
        plot(plot_path, labels, [p.probability[ML_ENGINEERING] for p in predictions])
    if as_json:
        click.echo(json.dumps({**report.to_dict(), "model_version": classifier.version}))
        return
    click.echo(f"model {classifier.version} on {file} (n={report.n})")
    click.echo(f"accuracy {report.accuracy:.3f}  macro-F1 {report.macro_f1:.3f}  "
               f"ROC-AUC {report.roc_auc if report.roc_auc is None else f'{report.roc_auc:.3f}'}")
    click.echo(f"Brier {report.brier:.3f}  ECE {report.ece:.3f}")
    click.echo("confusion (rows true, columns predicted): " + ", ".join(report.labels))
    for label, row in zip(report.labels, report.confusion, strict=True):
        click.echo(f"  {label:<15} {row}")


@cli.group()
def models() -> None:
    """List and inspect model versions."""


@models.command("list")
def models_list() -> None:
    """List versions, oldest first; * marks the serving one."""
    home = data_home()
    try:
        serving = current_version(home)
    except ModelNotFound:
        serving = None
    versions = list_versions(home)
    if not versions:
        raise ModelNotFound(f"no model versions in {home}; train one with `rolelens train`")
    for name in versions:
        card = read_card(home, name)
        f1 = card.get("metrics", {}).get("validation", {}).get("macro_f1")
        mark = "*" if name == serving else " "
        click.echo(f"{mark} {name}  created {card.get('created_at')}  validation macro-F1 {f1}")


@models.command("show")
@click.argument("version", required=False)
def models_show(version: str | None) -> None:
    """Print a version's card (default: the serving version)."""
    home = data_home()
    click.echo(json.dumps(read_card(home, version or current_version(home)), indent=2))


cli.add_command(batch)


def main() -> None:
    """Entry point of the ``rolelens`` console script."""
    cli(prog_name="rolelens")
