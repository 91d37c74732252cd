"""What each way in loads: the server never loads training, and commands load only what they use.

The command line never loads pydantic either: only the server checks request bodies with it.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import LAZY_COMMANDS, cli
from tests.conftest import REPO

CHECK = """
import sys
{run}
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & {forbidden!r})
assert not loaded, f"loaded {{loaded}}"
"""


def _run(
    run: str, forbidden: set[str], home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROLELENS_")}
    if home is not None:
        env["ROLELENS_HOME"] = str(home)
    script = CHECK.format(run=run, forbidden=forbidden)
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_serving_app_does_not_import_training() -> None:
    done = _run("from service.app import create_app\ncreate_app()", {"training"})
    assert done.returncode == 0, done.stderr


def test_starting_and_reading_retrain_jobs_loads_no_scikit_learn(tmp_path: Path) -> None:
    # A gevent worker answers POST /api/v1/retrain and GET /api/v1/jobs/ID with this module;
    # seconds of importing scikit-learn there stalled it past its timeout under load.
    run = (
        "from training import jobs\n"
        "try:\n"
        f"    jobs.get({str(tmp_path)!r}, 32 * '0')\n"
        "except jobs.JobNotFound:\n"
        "    pass\n"
    )
    done = _run(run, {"sklearn", "scipy"})
    assert done.returncode == 0, done.stderr


def test_moving_serving_and_comparing_versions_over_http_load_no_scikit_learn(
    seed_serving: tuple[Path, str, str],
) -> None:
    # A gevent worker answers these: seconds of importing scikit-learn there held up every
    # other request of that worker (POST /api/v1/models/shadow took 1.2 s).
    home, full, seed_only = seed_serving
    run = (
        "from service.app import create_app\n"
        f"app = create_app({{'TESTING': True, 'HOME': {str(home)!r}, 'ADMIN_TOKEN': 't'}})\n"
        "client, auth = app.test_client(), {'Authorization': 'Bearer t'}\n"
        "def ok(answer):\n"
        "    assert answer.status_code < 300, (answer.status_code, answer.get_data(True))\n"
        f"ok(client.get('/models?a={full}&b={seed_only}'))\n"
        f"ok(client.post('/api/v1/models/shadow', json={{'version': {full!r}}}, headers=auth))\n"
        "ok(client.delete('/api/v1/models/shadow', headers=auth))\n"
        "ok(client.post('/api/v1/models/rollback', headers=auth))\n"
    )
    done = _run(run, {"sklearn", "scipy", "matplotlib"})
    assert done.returncode == 0, done.stderr


def _cli(*args: str) -> str:
    return (
        "from service.cli import cli\n"
        "try:\n"
        f"    cli({list(args)!r}, prog_name='rolelens')\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],  # the overview
        ["models", "list"],  # reads cards only
        ["models", "show"],
        ["phrases", "list"],  # reads the store only
    ],
)
def test_commands_that_do_not_classify_load_no_scikit_learn_scipy_or_pydantic(
    home: Path, args: list[str]
) -> None:
    done = _run(_cli(*args), {"sklearn", "scipy", "pydantic"}, home)
    assert done.returncode == 0, done.stderr


def test_classify_needs_numpy_but_not_scikit_learn_scipy_or_pydantic(home: Path) -> None:
    done = _run(
        _cli("classify", "Deploy models to production with Kubernetes."),
        {"sklearn", "scipy", "pydantic"},
        home,
    )
    assert done.returncode == 0, done.stderr
    assert "ML-engineering-leaning" in done.stdout


def test_evaluate_scores_without_scikit_learn_or_scipy(home: Path) -> None:
    validation = str(REPO / "fixtures" / "postings" / "validation.csv")
    args = ("evaluate", validation, "--text-column", "text", "--label-column", "label")
    done = _run(_cli(*args), {"sklearn", "scipy", "pydantic"}, home)
    assert done.returncode == 0, done.stderr
    assert "macro-F1" in done.stdout


@pytest.mark.parametrize("name", sorted(LAZY_COMMANDS))
def test_a_lazy_command_is_listed_with_its_own_help(name: str) -> None:
    module, attribute = LAZY_COMMANDS[name][0].split(":")
    command = getattr(importlib.import_module(module), attribute)
    assert command.name == name
    assert LAZY_COMMANDS[name][1] == command.get_short_help_str(200)
    overview = CliRunner().invoke(cli, ["--help"], terminal_width=200)
    assert f"{name}  " in overview.output and LAZY_COMMANDS[name][1] in overview.output
