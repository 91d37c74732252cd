"""The ``rolelens`` command line: thin shells over the classifier and training libraries.

Exit codes: 0 ok, 1 failed, 2 bad usage or bad input, with one line saying what to fix.

Commands import what they need when they run: ``rolelens --help`` and the commands that do not
classify or train never load scikit-learn or scipy, and ``classify`` needs numpy only.
"""

from __future__ import annotations

import csv
import getpass
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from classifier.artifacts import current_version
from classifier.errors import ModelNotFound
from classifier.labels import ML_ENGINEERING, NEITHER, NEITHER_HEADLINE, SOURCES, TOWARD
from classifier.prediction import Prediction
from service import multiproc
from service.config import data_home, fixtures_home, keep_versions
from service.errors import BadInput, Failed, describe, rule_for
from service.first_model import ensure_model
from service.ports import check_free

# Subcommands defined in modules that are slow to import: loaded only when run, their
# one-line help kept here for ``rolelens --help``.
LAZY_COMMANDS = {
    "batch": (
        "service.batch.cli:batch",
        "Classify every posting of CSV, JSON Lines or Parquet INPUT into OUT (- for stdin/stdout).",
    ),
    "models": (
        "service.cli_models:models",
        "List, inspect, compare, roll back, prune, shadow and migrate model versions.",
    ),
    "phrases": (
        "service.cli_phrases:phrases",
        "Teach rolelens your own labeled phrases (then run `rolelens train`).",
    ),
}


class Group(click.Group):
    """Turns rolelens errors into one line on stderr and the exit code of
    ``errors.TABLE``, and loads
    the commands of :data:`LAZY_COMMANDS` only when one of them runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            module, name = LAZY_COMMANDS[cmd_name][0].split(":")
            self.add_command(getattr(importlib.import_module(module), name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            limit = formatter.width - 6 - len(name)
            if name in LAZY_COMMANDS and name not in self.commands:
                stand_in = click.Command(name, help=LAZY_COMMANDS[name][1])
                rows.append((name, stand_in.get_short_help_str(limit)))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            rule = rule_for(exc)
            if rule is None:
                raise
            shown = describe(exc, data_home())
            raise (Failed(shown) if rule.exit_code == 1 else BadInput(shown)) from None


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
@click.option("--by", "who", help="Your name, kept in the version's card (default: your login).")
@click.option(
    "--no-promote",
    is_flag=True,
    help="Write and check the new version but keep the serving one (evaluate it with --version).",
)
def train(
    packs: str, force: bool, as_json: bool, wait: bool, who: str | None, no_promote: bool
) -> None:
    """Train a model on the packs and your phrases, check it, and promote it to serving.

    Afterwards only the newest $ROLELENS_KEEP_VERSIONS versions (default 20) are kept.
    """
    from training.lock import registry_lock
    from training.store import check_name

    if force and no_promote:
        raise click.UsageError("--force promotes and --no-promote does not: give one of them")
    try:
        keep = keep_versions()
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    started_by = {"via": "cli", "by": check_name(who or _login())}
    chosen = _packs(packs)
    if not wait:  # a running retrain is told at once, not after a second of imports
        with registry_lock(data_home()):
            pass
    from training.retrain import retrain

    result = retrain(
        data_home(),
        chosen,
        force=force,
        wait=wait,
        keep=keep,
        started_by=started_by,
        fixtures=fixtures_home(),
        promote_new=not no_promote,
    )
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


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


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
    call = f"{prediction.leaning} ({prediction.strength})"
    if prediction.verdict == NEITHER:
        call = f"{NEITHER_HEADLINE}; its words lean toward {TOWARD[prediction.label]}"
    lines = [f"{call}: P(ml_engineering) = {p_ml:.2f}   [model {prediction.model_version}]"]
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
    from classifier.model import RoleClassifier

    posting = _check_not_blank(_read_posting(text, file))
    ensure_model(data_home(), fixtures_home())
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
    from classifier.model import RoleClassifier
    from service.batch.read import TEXT_COLUMNS
    from training.evaluate import plot, read_labeled, score_predictions

    if text_column is None:
        with open(file, encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), [])
        text_column = next((c for c in TEXT_COLUMNS if c in header), TEXT_COLUMNS[0])
    texts, labels = read_labeled(file, text_column, label_column)
    if version is None:
        ensure_model(data_home(), fixtures_home())
    classifier = RoleClassifier.from_registry(data_home(), version)
    predictions = classifier.classify_many(texts)
    report = score_predictions(labels, predictions)
    if plot_path is not None:
        plot(plot_path, labels, [p.probability[ML_ENGINEERING] for p in predictions])
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
    click.echo(
        "by strength: "
        + ", ".join(
            f"{band} {figures['n']}"
            + ("" if figures["accuracy"] is None else f" ({figures['accuracy']:.1%} right)")
            for band, figures in report.by_strength.items()
        )
    )
    click.echo("verdicts: " + ", ".join(f"{v} {n}" for v, n in report.verdicts.items()))


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
    from service.logformat import check_format, check_level  # imports Flask

    try:
        check_format(os.environ.get("ROLELENS_LOG_FORMAT"))
        check_level(os.environ.get("ROLELENS_LOG_LEVEL"))
        multiproc.prepare()  # before gunicorn imports prometheus-client: see service.multiproc
    except (ValueError, multiproc.MetricsDirError) as exc:
        raise BadInput(str(exc)) from None
    check_free(host, port)
    home = data_home()
    try:
        version = current_version(home)
    except ModelNotFound:
        from training.retrain import retrain

        click.echo(f"no model in {home} yet: training the default one (seed + curated)", err=True)
        version = retrain(home, fixtures=fixtures_home()).version
    click.echo(f"serving model {version} from {home} at http://{host}:{port}/", err=True)
    command = gunicorn_command(host, port, workers)
    os.execv(command[0], command)


def main() -> None:
    """Entry point of the ``rolelens`` console script."""
    cli(prog_name="rolelens")
