"""``rolelens models``: list, show, roll back and prune model versions."""

from __future__ import annotations

import json

import click

from classifier.artifacts import current_version, read_card
from classifier.errors import ModelNotFound
from service.config import data_home
from training.retrain import prune_registry, rollback
from training.versions import describe, describe_all


@click.group()
def models() -> None:
    """List, inspect, roll back and prune model versions."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list.")
def models_list(as_json: bool) -> None:
    """List versions, newest first: phrases per pack and label, validation, who, role.

    * marks the serving version; roles in brackets: serving, previous, shadow, refused.
    """
    home = data_home()
    versions = describe_all(home)
    if not versions:
        raise ModelNotFound(f"no model versions in {home}; train one with `rolelens train`")
    if as_json:
        click.echo(json.dumps([v.to_dict() for v in versions], indent=2))
        return
    for info in versions:
        click.echo(f"{'*' if info.serving else ' '} {info.summary()}")


@models.command("show")
@click.argument("version", required=False)
def models_show(version: str | None) -> None:
    """Print what a version is, and its card, as JSON (default: the serving version)."""
    home = data_home()
    name = version or current_version(home)
    click.echo(
        json.dumps({**describe(home, name).to_dict(), "card": read_card(home, name)}, indent=2)
    )


@models.command("rollback")
@click.argument("version", required=False)
@click.option("--wait", is_flag=True, help="Wait for a running retrain instead of failing.")
def models_rollback(version: str | None, wait: bool) -> None:
    """Serve VERSION again (default: the version that served before the current one)."""
    home = data_home()
    before = current_version(home)
    now = rollback(home, version, wait=wait)
    click.echo(f"version {now} now serves (was {before})")


@models.command("prune")
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    required=True,
    help="How many of the newest versions to keep.",
)
def models_prune(keep: int) -> None:
    """Delete old versions, never the serving one or the one before it."""
    removed = prune_registry(data_home(), keep)
    click.echo(f"removed {len(removed)} version(s)" + "".join(f"\n  {v}" for v in removed))
