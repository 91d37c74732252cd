"""The ``rolelens`` command line: thin shells over the classifier and training libraries.

Exit codes: 0 ok, 1 failed, 2 bad usage or bad input, with one line saying what to fix.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from classifier.artifacts import current_version
from classifier.batch_input import TEXT_COLUMNS
from classifier.errors import InvalidPosting, ModelNotFound, RolelensError
from classifier.labels import ML_ENGINEERING
from classifier.model import RoleClassifier
from classifier.prediction import Prediction
from service import multiproc
from service.cli_batch import batch
from service.cli_models import models
from service.cli_phrases import phrases as phrases_group
from service.config import data_home
from service.first_model import ensure_model
from service.logformat import check_format
from training.errors import PromotionRefused, TrainingError
from training.evaluate import plot, read_labeled, score
from training.retrain import SOURCES, retrain


class Failed(click.ClickException):
    """The command could not do its work (exit code 1)."""

    exit_code = 1


class BadInput(click.ClickException):
    """The input or the request was at fault (exit code 2)."""

    exit_code = 2


class Group(click.Group):
    """Turns rolelens errors into one line on stderr and the documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PromotionRefused as exc:
            raise Failed(str(exc)) from None
        except (InvalidPosting, TrainingError, ModelNotFound) as exc:
            raise BadInput(str(exc)) from None
        except RolelensError as exc:
            raise Failed(str(exc)) from None


@click.group(cls=Group)
@click.version_option(package_name="rolelens")
def cli() -> None:
    """rolelens: does a job posting lean toward data science or ML engineering, and why?"""


def _packs(value: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = [name for name in names if name not in SOURCES]
    if not names or unknown:
        raise click.BadParameter(f"use a comma-separated list of: {', '.join(SOURCES)}")
    return names


@cli.command()
@click.option(
    "--packs",
    default="seed,curated,user",
    show_default=True,
    help="Comma-separated phrase packs to train on.",
)
@click.option("--force", is_flag=True, help="Promote even if validation macro-F1 dropped.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.option("--wait", is_flag=True, help="Wait for a running retrain instead of failing.")
@click.option(
    "--no-promote",
    is_flag=True,
    help="Write and check the new version but keep the serving one (evaluate it with --version).",
)
def train(packs: str, force: bool, as_json: bool, wait: bool, no_promote: bool) -> None:
    """Train a model on the packs and your phrases, check it, and promote it to serving."""
    if force and no_promote:
        raise click.UsageError("--force promotes and --no-promote does not: give one of them")
    result = retrain(data_home(), _packs(packs), force=force, wait=wait, promote_new=not no_promote)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    figures = result.validation
    done = "now serves" if result.promoted else "is written, not promoted"
    click.echo(
        f"version {result.version} {done} (validation: macro-F1 {figures['macro_f1']:.3f}, "
        f"ROC-AUC {figures['roc_auc']:.3f}, n={figures['n']})"
    )
    if not result.promoted:
        click.echo(f"try it: rolelens evaluate FILE --version {result.version}")
        return
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


def _check_not_blank(posting: str) -> str:
    if not posting.strip():
        raise BadInput(
            "the posting is empty: paste the text of a job posting in quotes, "
            "or give --file PATH, or pipe it in with TEXT '-'"
        )
    return posting


def _describe(prediction: Prediction) -> str:
    p_ml = prediction.probability[ML_ENGINEERING]
    lines = [
        f"{prediction.leaning} ({prediction.strength}): P(ml_engineering) = {p_ml:.2f}"
        f"   [model {prediction.model_version}]"
    ]
    for title, phrases in (
        ("key phrases", prediction.key_phrases),
        ("counter phrases", prediction.counter_phrases),
    ):
        if phrases:
            shown = ", ".join(f"{p.text!r} ({p.weight:+.2f})" for p in phrases[:6])
            lines.append(f"{title}: {shown}")
    if prediction.evidence.warning:
        lines.append(f"warning: {prediction.evidence.warning}")
    return "\n".join(lines)


@cli.command()
@click.argument("text", required=False)
@click.option(
    "-f",
    "--file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the posting from a file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the full prediction as JSON.")
def classify(text: str | None, file: Path | None, as_json: bool) -> None:
    """Classify one posting given as TEXT, with --file, or on stdin (TEXT '-')."""
    posting = _check_not_blank(_read_posting(text, file))
    ensure_model(data_home())
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
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a reliability diagram and ROC curve to this PNG.",
)
def evaluate(
    file: Path,
    text_column: str | None,
    label_column: str,
    version: str | None,
    as_json: bool,
    plot_path: Path | None,
) -> None:
    """Score the model on a CSV of labeled postings."""
    if text_column is None:
        with open(file, encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), [])
        text_column = next((c for c in TEXT_COLUMNS if c in header), TEXT_COLUMNS[0])
    texts, labels = read_labeled(file, text_column, label_column)
    if version is None:
        ensure_model(data_home())
    classifier = RoleClassifier.from_registry(data_home(), version)
    p_ml = [p.probability[ML_ENGINEERING] for p in classifier.classify_many(texts)]
    report = score(labels, p_ml)
    if plot_path is not None:
        plot(plot_path, labels, p_ml)
    if as_json:
        click.echo(json.dumps({**report.to_dict(), "model_version": classifier.version}))
        return
    click.echo(f"model {classifier.version} on {file} (n={report.n})")
    click.echo(
        f"accuracy {report.accuracy:.3f}  macro-F1 {report.macro_f1:.3f}  "
        f"ROC-AUC {report.roc_auc if report.roc_auc is None else f'{report.roc_auc:.3f}'}"
    )
    click.echo(f"Brier {report.brier:.3f}  ECE {report.ece:.3f}")
    click.echo("confusion (rows true, columns predicted): " + ", ".join(report.labels))
    for label, row in zip(report.labels, report.confusion, strict=True):
        click.echo(f"  {label:<15} {row}")


cli.add_command(models)
cli.add_command(phrases_group)


def gunicorn_command(host: str, port: int, workers: int | None) -> list[str]:
    """The gunicorn command line ``serve`` runs (and the tests and benchmark reuse)."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:service.gunicorn_conf",
        "--bind",
        f"{host}:{port}",
    ]
    if workers is not None:
        command += ["--workers", str(workers)]
    return [*command, "service.app:create_app()"]


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="HOST",
    help="Address to listen on (0.0.0.0 for every interface).",
)
@click.option(
    "--port", default=8000, show_default=True, envvar="PORT", type=click.IntRange(1, 65535)
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Worker processes [default: one per CPU, at least 2, or $WEB_CONCURRENCY].",
)
def serve(host: str, port: int, workers: int | None) -> None:
    """Serve the web page and JSON API with gunicorn (training the default model if none)."""
    try:
        check_format(os.environ.get("ROLELENS_LOG_FORMAT"))
        multiproc.prepare()  # before gunicorn imports prometheus-client: see service.multiproc
    except (ValueError, multiproc.MetricsDirError) as exc:
        raise BadInput(str(exc)) from None
    home = data_home()
    try:
        version = current_version(home)
    except ModelNotFound:
        click.echo(f"no model in {home} yet: training the default one (seed + curated)", err=True)
        version = retrain(home).version
    click.echo(f"serving model {version} from {home} at http://{host}:{port}/", err=True)
    command = gunicorn_command(host, port, workers)
    os.execv(command[0], command)


cli.add_command(batch)


def main() -> None:
    """Entry point of the ``rolelens`` console script."""
    cli(prog_name="rolelens")
