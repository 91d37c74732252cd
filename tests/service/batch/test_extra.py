"""Parquet and the Dask engine without ``rolelens[scale]``: the error says how to install it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.batch import extra
from service.batch.errors import MissingExtra
from service.cli import cli


@pytest.fixture
def without_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if pyarrow, dask and distributed were not installed."""
    find_spec = importlib.util.find_spec

    def hidden(name: str, *args: object, **kwargs: object) -> object:
        if name in {"pyarrow", "dask", "distributed"}:
            return None
        return find_spec(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", hidden)


@pytest.mark.usefixtures("without_scale")
@pytest.mark.parametrize("feature", ["parquet", "dask"])
def test_a_missing_extra_names_the_install_command(feature: str) -> None:
    with pytest.raises(MissingExtra) as raised:
        extra.require(feature)
    assert "pip install -e '.[scale]'" in str(raised.value)
    assert "pyarrow" in str(raised.value)


@pytest.mark.usefixtures("without_scale")
@pytest.mark.parametrize(
    "args",
    [
        ["in.csv", "-o", "out.parquet"],  # Parquet chosen by OUT's extension
        ["in.csv", "-o", "out.csv", "--input-format", "parquet"],
        ["in.csv", "-o", "outdir", "--engine", "dask"],
    ],
)
def test_the_cli_exits_2_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.csv").write_text("description\nx\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["batch", *args])
    assert result.exit_code == 2, result.output
    assert ".venv/bin/pip install -e '.[scale]'" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]
