"""The default model on first use: a command that needs a model never finds none.

After a fresh clone (or ``make test`` alone) the data directory holds no model yet. Rather
than fail, ``classify``, ``evaluate`` and ``batch`` train and promote the default one first
(seed + curated + any user phrases), saying so in one line on stderr.
"""

from __future__ import annotations

from pathlib import Path

import click

from classifier.artifacts import CURRENT_FILE, models_dir


def ensure_model(home: Path, fixtures: Path | None = None) -> None:
    """Train and promote the default model in ``home`` unless a version serves there already.

    Args:
        home: the data directory.
        fixtures: the folder of the packs and validation postings (default: the project's).

    Raises:
        TrainingError: the default model could not be trained or did not pass its checks.
    """
    if (models_dir(home) / CURRENT_FILE).exists():
        return
    click.echo(
        f"no model in {home} yet: training the default one first (seed + curated; a few seconds)",
        err=True,
    )
    from training.retrain import retrain  # only when there is something to train

    retrain(home, wait=True, fixtures=fixtures)
