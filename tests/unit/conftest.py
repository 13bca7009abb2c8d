"""tests/unit is pure: starting any process here (Go, DVC, git, benchpipe) fails the test."""

from __future__ import annotations

import subprocess

import pytest


@pytest.fixture(autouse=True)
def no_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"tests/unit starts no process: {args[:1]}")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
