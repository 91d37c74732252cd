"""``rolelens models``: list, show, roll back, prune and migrate model versions.

The training library (and scikit-learn with it) is imported by the commands that use it.
"""

from __future__ import annotations

import json

import click

from classifier.artifacts import current_version, read_card
from classifier.errors import ModelNotFound
from service.config import data_home


@click.group()
def models() -> None:
    """List, inspect, roll back and prune model versions."""


@models.command("list")
def models_list() -> None:
    """List versions, oldest first; * marks the serving one."""
    from training.registry import list_versions

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


@models.command("rollback")
@click.argument("version", required=False)
@click.option("--wait", is_flag=True, help="Wait for a running retrain instead of failing.")
def models_rollback(version: str | None, wait: bool) -> None:
    """Serve VERSION again (default: the version that served before the current one)."""
    from training.retrain import rollback

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
    from training.retrain import prune_registry

    removed = prune_registry(data_home(), keep)
    click.echo(f"removed {len(removed)} version(s)" + "".join(f"\n  {v}" for v in removed))


@models.command("migrate")
@click.argument("version")
@click.option(
    "--trust",
    is_flag=True,
    help="You vouch for the version's old model.joblib: unpickling it runs its code.",
)
@click.option("--wait", is_flag=True, help="Wait for a running retrain instead of failing.")
def models_migrate(version: str, trust: bool, wait: bool) -> None:
    """Re-save VERSION, stored in the old pickle format, as plain arrays and JSON."""
    from training.migrate import migrate

    migrate(data_home(), version, trust=trust, wait=wait)
    click.echo(f"version {version} is now stored as arrays and JSON (no pickle)")
