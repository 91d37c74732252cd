"""The benchmarks' ``--setup`` strings: server environment first, then gunicorn arguments."""

from __future__ import annotations

from bench._server import split_setup


def test_leading_assignments_set_the_environment_and_the_rest_goes_to_gunicorn() -> None:
    variables, arguments = split_setup("WEB_CONCURRENCY=3 PYTHONPATH='/a b' --worker-class sync")
    assert variables == {"WEB_CONCURRENCY": "3", "PYTHONPATH": "/a b"}
    assert arguments == "--worker-class sync"


def test_a_setup_of_gunicorn_arguments_only_sets_nothing() -> None:
    assert split_setup("--workers 3 --env A=1") == ({}, "--workers 3 --env A=1")
    assert split_setup("") == ({}, "")
