"""The README's commands run as written, in order, in a scratch copy of the repository folder.

Fenced blocks tagged ``readme-test`` are the ones run: ``sh readme-test`` blocks as one bash
script (so a variable set in one block is there in the next), and in ``console readme-test``
blocks each ``$ command`` line is run at its place in that script and its output compared
with the lines shown under it (model versions aside). ``sh readme-test-http`` blocks run the
same way against a real server. The data directory is the README's default, ``./var``, in
the scratch folder; ``fixtures`` and ``.venv`` there point at this checkout's.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.readme_runner import SHIM
from tests.service.conftest import free_port
from tests.service.test_serve import stop, wait_until_ready

pytestmark = pytest.mark.slow

FENCE = re.compile(r"^```(\w+) (readme-test(?:-http)?)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)
VERSION = re.compile(r"\b\d{8}T\d{6}Z-[0-9a-f]{6}\b")


def blocks(tag: str) -> list[tuple[str, str]]:
    """(language, body) of every README block tagged ``tag``, in order."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return [(m.group(1), m.group(3)) for m in FENCE.finditer(readme) if m.group(2) == tag]


def script(tag: str, outputs: Path) -> tuple[str, list[tuple[Path, str]]]:
    """One bash script of the blocks, and the (output file, expected text) of each console line."""
    lines = ["set -euo pipefail"]
    expected: list[tuple[Path, str]] = []
    for language, body in blocks(tag):
        if language == "sh":
            lines.append(body)
            continue
        assert language == "console", f"a {language} block cannot be run"
        for chunk in re.split(r"^\$ ", body, flags=re.MULTILINE)[1:]:
            command, _, shown = chunk.partition("\n")
            sink = outputs / f"output-{len(expected)}.txt"
            lines.append(f"{command} > {shlex.quote(str(sink))}")
            expected.append((sink, shown))
    return "\n".join(lines) + "\n", expected


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A scratch folder laid out like the repository: fixtures and .venv, no data directory."""
    folder = tmp_path / "checkout"
    folder.mkdir()
    (folder / "fixtures").symlink_to(REPO / "fixtures")
    (folder / ".venv").symlink_to(Path(sys.prefix))
    return folder


def run(source: str, folder: Path, env: dict[str, str]) -> None:
    done = subprocess.run(
        ["bash", "-c", source], cwd=folder, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stderr[-3000:]}"


def same_output(expected: list[tuple[Path, str]]) -> None:
    for sink, shown in expected:
        got = VERSION.sub("VERSION", sink.read_text(encoding="utf-8"))
        assert got == VERSION.sub("VERSION", shown), (
            f"the README shows:\n{shown}\nit prints:\n{got}"
        )


@pytest.fixture
def fast_rolelens(checkout: Path, tmp_path: Path, soak: bool) -> Iterator[None]:
    """``.venv/bin/rolelens`` of the checkout as a shim of tests/readme_runner.py.

    Under --soak the checkout keeps the real .venv: every command its own process.
    """
    if soak:
        yield
        return
    address = str(tmp_path / "rolelens.sock")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    shim = venv / "bin" / "rolelens"
    shim.write_text(SHIM.format(python=sys.executable, address=address))
    shim.chmod(0o755)
    (checkout / ".venv").unlink()
    (checkout / ".venv").symlink_to(venv)
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.readme_runner", address],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    try:
        assert server.stdout.readline() == "ready\n"
        yield
    finally:
        server.kill()
        server.wait(timeout=30)
        server.stdout.close()


@pytest.mark.soak
def test_the_readme_command_line_blocks_run_as_written(
    checkout: Path, tmp_path: Path, fast_rolelens: None
) -> None:
    source, expected = script("readme-test", tmp_path)
    assert "rolelens train" in source and expected, "the tagged blocks were found"
    run(source, checkout, dict(os.environ))
    same_output(expected)
    assert (checkout / "var" / "models" / "CURRENT").exists(), "the data directory is ./var"
    assert (checkout / "results.csv").stat().st_size > 0


def test_the_readme_http_blocks_run_against_a_real_server(
    checkout: Path, tmp_path: Path, trained_home: Path
) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed; the README's HTTP examples use it")
    shutil.copytree(trained_home, checkout / "var")  # as after `make run` trained it
    port = free_port()
    source, expected = script("readme-test-http", tmp_path)
    assert "curl" in source
    source = source.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    env = {**os.environ, "ROLELENS_ADMIN_TOKEN": "readme-token", "ROLELENS_LOG_LEVEL": "WARNING"}
    command = [".venv/bin/rolelens", "serve", "--port", str(port), "--workers", "1"]
    with open(tmp_path / "server.log", "wb") as sink:
        server = subprocess.Popen(
            command, cwd=checkout, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        wait_until_ready(port, server, seconds=60)
        run(source, checkout, env)
    finally:
        stop(server)
    same_output(expected)
    assert (checkout / "postings-classified.csv").read_text().startswith("id,title,description")
