"""One module per ``benchpipe`` subcommand: ``register(sub)`` adds its parser, ``run(args)`` runs it.

:data:`NAMES` lists them in ``--help``'s order, each the name of its module; :func:`load` imports one.
A pipeline stage imports only its own (:func:`benchpipe.cli.main.build_parser`): importing all of them
is ~20 ms of each stage process."""

from __future__ import annotations

import importlib
from types import ModuleType

NAMES = (
    "init",
    "bench",
    "parse",
    "compare",
    "calibrate",
    "bisect",
    "culprit",
    "impact",
    "gate",
    "profile",
    "record",
    "report",
    "history",
    "baseline",
    "annotate",
    "settings",
    "pipeline",
    "schemas",
    "merge",
    "publish",
    "comment",
    "issue",
)


def load(name: str) -> ModuleType:
    """The module of subcommand ``name`` (one of :data:`NAMES`)."""
    return importlib.import_module(f"{__name__}.{name}")
