"""Pipeline parameters: ``params.yaml`` plus the overrides an ``invoke`` task passes.

``invoke`` tasks never rewrite ``params.yaml``; they pass per-run overrides
as JSON in the ``BENCHPIPE_OVERRIDES`` environment variable (dotted keys,
e.g. ``{"modes.quick.count": 5, "target": "/src/mymod"}``). The effective
parameters are written into the run's metadata, so every result says how it
was produced. ``dvc repro`` alone runs exactly what ``params.yaml`` says.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import yaml

from benchpipe.core.errors import BenchpipeError

ENV = "BENCHPIPE_OVERRIDES"
# Every default a missing parameter takes, defined once (params.yaml states the same values).
DEFAULT_TARGET = "examples/policyengine"
MODE_DEFAULTS: dict[str, Any] = {"packages": ["./..."], "bench": ".", "count": 1, "benchtime": "1s", "cpu": "",
                                 "timeout": "10m", "profile": "all"}
PAIRED_DEFAULTS: dict[str, Any] = {"rounds": 16, "benchtime": "100ms", "confirm_rounds": 6, "order": "alternate"}


def set_dotted(d: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    cur = d
    for p in parts[:-1]:
        nxt = cur.get(p)
        if not isinstance(nxt, dict):
            nxt = {}
            cur[p] = nxt
        cur = nxt
    cur[parts[-1]] = value


def load(path: str | Path = "params.yaml", overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except OSError as e:
        raise BenchpipeError(f"{p}: cannot read parameters: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise BenchpipeError(f"{p}: invalid YAML: {str(e).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise BenchpipeError(f"{p}: parameters must be a mapping")
    data = copy.deepcopy(data)
    env = os.environ.get(ENV)
    extra: dict[str, Any] = {}
    if env:
        try:
            extra = json.loads(env)
        except ValueError:
            raise BenchpipeError(f"{ENV} is not valid JSON") from None
    extra.update(overrides or {})
    for k, v in extra.items():
        set_dotted(data, k, v)
    return data


def mode_config(params: dict[str, Any]) -> dict[str, Any]:
    """Bench settings of the selected mode."""
    mode = params.get("mode", "quick")
    modes = params.get("modes", {})
    if mode not in modes:
        raise BenchpipeError(f"params: mode {mode!r} is not one of {', '.join(modes) or 'none'}")
    cfg = {**MODE_DEFAULTS, **modes[mode]}
    cfg["mode"] = mode
    pk = cfg["packages"]
    cfg["packages"] = pk.split() if isinstance(pk, str) else [str(x) for x in pk]
    return cfg


def target_dir(params: dict[str, Any], root: Path | None = None) -> Path:
    t = Path(str(params.get("target", DEFAULT_TARGET))).expanduser()
    if not t.is_absolute():
        t = (root or Path.cwd()) / t
    return t


def overridden(key: str) -> bool:
    """Whether this run's overrides (``BENCHPIPE_OVERRIDES``) set ``key`` explicitly."""
    try:
        return key in json.loads(os.environ.get(ENV) or "{}")
    except ValueError:
        return False


def like_baseline(params: dict[str, Any], cfg: dict[str, Any], meta: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The mode's settings with the baseline's benchtime and -cpu list where the user did not set them
    (``bench.like_baseline``: compare like with like); returns the settings and a note saying what was taken."""
    s = meta.get("settings") or {}
    taken = []
    out = dict(cfg)
    for key in ("benchtime", "cpu"):
        if key in s and not overridden(f"modes.{cfg['mode']}.{key}") and str(s[key] or "") != str(cfg.get(key) or ""):
            out[key] = s[key]
            taken.append(f"{'-cpu' if key == 'cpu' else key} {s[key] or 'default'}")
    note = f"{' and '.join(taken)} taken from the baseline (compare like with like)" if taken else ""
    return out, note


def paired_config(params: dict[str, Any]) -> dict[str, Any]:
    """params.yaml's ``paired`` section with its defaults."""
    return {**PAIRED_DEFAULTS, **(params.get("paired") or {})}
