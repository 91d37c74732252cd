"""``rolelens models``: list, show, roll back, prune, shadow, diff and migrate model versions.

The training library (and scikit-learn with it) is imported by the commands that use it.
"""

from __future__ import annotations

import json

import click

from classifier.artifacts import current_version, read_card, shadow_version
from classifier.errors import ModelNotFound
from service.config import data_home


@click.group()
def models() -> None:
    """List, inspect, compare, roll back, prune, shadow and migrate model versions."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list.")
def models_list(as_json: bool) -> None:
    """List versions, newest first: phrases per pack and label, validation, who, role.

    * marks the serving version; roles in brackets: serving, previous, shadow, refused.
    """
    from training.versions import describe_all

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
    from training.versions import describe

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
    from training.registry import rollback

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
    """Delete old versions, never the serving one, the one before it, or the shadow."""
    from training.registry import prune_registry

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


@models.command("shadow")
@click.argument("version", required=False)
@click.option("--off", is_flag=True, help="Stop shadowing.")
@click.option("--wait", is_flag=True, help="Wait for a running retrain instead of failing.")
def models_shadow(version: str | None, off: bool, wait: bool) -> None:
    """Let VERSION score live traffic beside the serving one; with no VERSION, show how it does.

    The answers stay the serving version's. Figures: GET /api/v1/models/shadow on the server.
    """
    from service.monitor_store import MonitorStore
    from training.shadow import start_shadow, stop_shadow

    home = data_home()
    if off and version:
        raise click.UsageError("give a VERSION to shadow, or --off, not both")
    if off:
        stop_shadow(home, wait=wait)
        click.echo("no shadow version now")
        return
    if version:
        start_shadow(home, version, wait=wait)
        MonitorStore(home).clear_shadow()
        click.echo(f"version {version} now scores live traffic beside the serving one")
        return
    shadow = shadow_version(home)
    if shadow is None:
        click.echo("no shadow version; start one with `rolelens models shadow VERSION`")
        return
    click.echo(
        json.dumps({"version": shadow, **MonitorStore(home).shadow_summary(shadow)}, indent=2)
    )


@models.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def models_diff(a: str, b: str, as_json: bool) -> None:
    """What changed from version A to version B: phrases, weights, validation calls."""
    from training.diff import diff_versions

    found = diff_versions(data_home(), a, b)
    if as_json:
        click.echo(json.dumps(found.to_dict(), indent=2))
        return
    click.echo(f"from {a} to {b}")
    for title, phrases in (("added", found.added), ("removed", found.removed)):
        click.echo(f"phrases {title}: {len(phrases)}")
        for phrase in phrases[:20]:
            click.echo(f"  {phrase.label:<15} {phrase.text!r} ({phrase.source})")
        if len(phrases) > 20:
            click.echo(f"  ... and {len(phrases) - 20} more (--json lists them all)")
    click.echo("largest weight changes (toward ml_engineering):")
    for change in found.weights:
        click.echo(
            f"  {change.term!r:<30} {change.before:+.3f} -> {change.after:+.3f} "
            f"({change.delta:+.3f})"
        )
    click.echo(f"validation calls that moved: {len(found.moved)} of {found.validation_n}")
    for call in found.moved:
        behind = ", ".join(f"{text!r} ({delta:+.2f})" for text, delta in call.phrases)
        click.echo(
            f"  #{call.index} (truly {call.truth}): {call.before} -> {call.after}, "
            f"P(ml) {call.p_before:.2f} -> {call.p_after:.2f}; moved by {behind}"
        )
