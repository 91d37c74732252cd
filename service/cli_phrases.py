"""``rolelens phrases``: add, import, list, remove, export labeled phrases; their history."""

from __future__ import annotations

import csv
import getpass
import json
from collections import Counter
from pathlib import Path
from typing import TextIO

import click

from classifier.artifacts import current_version
from classifier.errors import ModelNotFound
from classifier.labels import LABELS
from service.config import data_home, fixtures_home
from training.phrases import read_phrase_rows
from training.store import AddResult, PhraseStore, open_store


def _serving() -> str | None:
    try:
        return current_version(data_home())
    except ModelNotFound:
        return None


def _default_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _store() -> PhraseStore:
    return open_store(data_home(), fixtures_home())


def _report(results: list[AddResult]) -> None:
    for number, result in enumerate(results, start=1):
        where = f"row {number}: " if len(results) > 1 else ""
        click.echo(f"{where}{result.status}: {result.message}")
    counts = Counter(r.status for r in results)
    if len(results) > 1:
        click.echo("summary: " + ", ".join(f"{n} {status}" for status, n in counts.items()))
    refused = counts["invalid"] + counts["conflict"]
    if refused:
        raise click.exceptions.Exit(2)


@click.group()
def phrases() -> None:
    """Teach rolelens your own labeled phrases (then run `rolelens train`)."""


@phrases.command("add")
@click.argument("text")
@click.option("--label", type=click.Choice(LABELS), required=True)
@click.option("--by", "who", help="Your name, kept in the history (default: your login).")
def phrases_add(text: str, label: str, who: str | None) -> None:
    """Add one labeled phrase."""
    _report([_store().add(text, label, who or _default_name(), _serving())])


@phrases.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", "who", help="Your name, kept in the history (default: your login).")
@click.option("--atomic", is_flag=True, help="Add all rows or none.")
def phrases_import(file: Path, who: str | None, atomic: bool) -> None:
    """Add the phrases of a CSV with columns text,label; reports each row."""
    rows = [(row["text"] or "", row["label"] or "") for row in read_phrase_rows(file)]
    _report(_store().add_many(rows, who or _default_name(), _serving(), atomic=atomic))


@phrases.command("list")
@click.option("--label", type=click.Choice(LABELS))
@click.option("--source", help="Only this source, e.g. user:alice.")
@click.option("--removed", is_flag=True, help="Include removed phrases.")
@click.option("--json", "as_json", is_flag=True)
def phrases_list(label: str | None, source: str | None, removed: bool, as_json: bool) -> None:
    """List the stored phrases."""
    found = _store().list_phrases(label, source, include_removed=removed)
    if as_json:
        click.echo(json.dumps([p.to_dict() for p in found], indent=2, ensure_ascii=False))
        return
    for p in found:
        gone = f"  (removed {p.removed_at})" if p.removed_at else ""
        click.echo(f"{p.id:>5}  {p.label:<15} {p.source:<20} {p.text}{gone}")


@phrases.command("remove")
@click.argument("phrase_id", type=int)
@click.option("--by", "who", help="Your name, kept in the history (default: your login).")
def phrases_remove(phrase_id: int, who: str | None) -> None:
    """Remove a phrase (kept in the history; no longer trained on)."""
    removed = _store().remove(phrase_id, who or _default_name(), _serving())
    click.echo(f"removed phrase {removed.id}: {removed.text!r}")


@phrases.command("export")
@click.option(
    "-o",
    "--output",
    type=click.File("w", encoding="utf-8", lazy=True),
    default="-",
    help="File to write (default: stdout).",
)
def phrases_export(output: TextIO) -> None:
    """Write the active phrases as CSV (text,label,source) to a file or stdout."""
    writer = csv.writer(output)
    writer.writerow(["text", "label", "source"])
    writer.writerows((p.text, p.label, p.source) for p in _store().list_phrases())


@phrases.command("history")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
def phrases_history(limit: int) -> None:
    """Show who changed which phrase when, newest first."""
    for e in _store().history(limit):
        click.echo(
            f"{e.at}  {e.action:<6} {e.who:<12} phrase {e.phrase_id} ({e.label}) "
            f"{e.text!r}  model {e.model_version or '-'}"
        )
