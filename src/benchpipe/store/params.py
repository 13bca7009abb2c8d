"""Pipeline parameters: ``params.yaml`` plus the overrides an ``invoke`` task passes.

``invoke`` tasks never rewrite ``params.yaml``; they pass per-run overrides
as JSON in the ``BENCHPIPE_OVERRIDES`` environment variable (dotted keys,
e.g. ``{"modes.quick.count": 5, "target": "/src/mymod"}``). The effective
parameters are written into the run's metadata, so every result says how it
was produced. ``dvc repro`` alone runs exactly what ``params.yaml`` says.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
from pathlib import Path
from typing import Any

from benchpipe.core.errors import BenchpipeError

ENV = "BENCHPIPE_OVERRIDES"
# Every default a missing parameter takes, defined once (params.yaml states the same values).
DEFAULT_TARGET = "examples/policyengine"
MODE_DEFAULTS: dict[str, Any] = {"packages": ["./..."], "bench": ".", "count": 1, "benchtime": "1s", "cpu": "",
                                 "timeout": "10m", "profile": "all"}
PAIRED_DEFAULTS: dict[str, Any] = {"rounds": 16, "benchtime": "100ms", "confirm_rounds": 6, "order": "alternate",
                                   "early_stop": True}


def read_yaml(text: str, where: str | Path) -> Any:
    """Parse YAML with the safe loader (libyaml's where PyYAML has it, as its wheels do: the same safe types,
    several times faster); invalid YAML is a one-line error naming ``where``. PyYAML is imported here, on
    first use, so commands that read no parameters do not load it."""
    import yaml

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
    except yaml.YAMLError as e:
        raise BenchpipeError(f"{where}: invalid YAML: {str(e).splitlines()[0]}") from None


# Beside params.yaml: the overrides the last `invoke` run applied (nested, as params.yaml). The stages
# declare it in dvc.yaml, so dvc.lock, `dvc params diff` and `dvc exp show` show what really ran.
RUN_FILE = "params.run.yaml"
RUN_FILE_HEADER = ("# Overrides of the last `invoke` run (written by `benchpipe settings`; `dvc repro` applies them\n"
                   "# too). An empty mapping: params.yaml as it is. Commit it with dvc.lock.\n")


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted keys of a nested mapping (lists and scalars are leaves)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def nest(dotted: dict[str, Any]) -> dict[str, Any]:
    """The nested mapping of dotted keys (the inverse of :func:`flatten`)."""
    out: dict[str, Any] = {}
    for k, v in dotted.items():
        set_dotted(out, k, v)
    return out


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


def load(path: str | Path = "params.yaml", overrides: dict[str, Any] | None = None,
         run_file: bool = True) -> dict[str, Any]:
    p = Path(path)
    try:
        data = read_yaml(p.read_text(), p) or {}
    except OSError as e:
        raise BenchpipeError(f"{p}: cannot read parameters: {e.strerror}") from None
    if not isinstance(data, dict):
        raise BenchpipeError(f"{p}: parameters must be a mapping")
    data = copy.deepcopy(data)
    last_run = p.with_name(RUN_FILE)
    if run_file and last_run.exists():  # the last invoke run's overrides, where DVC records them
        extra_run = read_yaml(last_run.read_text(), last_run) or {}
        if not isinstance(extra_run, dict):
            raise BenchpipeError(f"{last_run}: parameters must be a mapping")
        for k, v in flatten(extra_run).items():
            set_dotted(data, k, v)
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
    problem = validate(data)
    if problem:
        raise BenchpipeError(f"{p}: {problem}")
    return data


# What params.yaml may hold: section -> key -> expected kind ("num", "int", "str", "bool", "regex",
# "list", "map", "any"). A misspelt key or a value of the wrong kind is an error, not a silent default.
SCHEMA: dict[str, dict[str, str]] = {
    "modes.*": {"packages": "list", "bench": "regex", "count": "int", "benchtime": "str", "cpu": "str",
                "timeout": "str", "profile": "str"},
    "bench": {"stall_s": "num", "like_baseline": "str"},
    "compare": {"baseline": "str", "threshold_pct": "num", "alpha": "num", "confidence": "num",
                "warn_min_pct": "num", "rules": "list", "confirm": "bool"},
    "compare.rules[]": {"unit": "str", "benchmark": "regex", "threshold_pct": "num", "assume": "str",
                        "ignore": "bool"},
    "paired": {"rounds": "int", "benchtime": "str", "confirm_rounds": "int", "order": "str", "early_stop": "bool"},
    "profile": {"enabled": "bool", "bench": "regex", "benchtime": "str", "memprofilerate": "int", "top": "int",
                "node_threshold": "num", "edge_threshold": "num", "gc_thresholds": "map", "min_samples": "int",
                "max_s": "num"},
    "report": {"trend_runs": "int", "trend_benchmarks": "regex", "trend_max": "int", "targets": "list"},
}
TOP = {"target", "mode", "modes", "bench", "compare", "paired", "profile", "report"}
CHOICES = {("modes.*", "profile"): {"all", "flagged"}, ("compare.rules[]", "assume"): {"exact", "nothing"},
           ("paired", "order"): {"alternate", "shuffle"}}


def _kind_ok(kind: str, v: Any) -> bool:
    if kind == "num":
        return isinstance(v, int | float) and not isinstance(v, bool)
    if kind == "int":
        return isinstance(v, int) and not isinstance(v, bool)
    if kind == "bool":
        return isinstance(v, bool)
    if kind == "list":
        return isinstance(v, list | str)
    if kind == "map":
        return isinstance(v, dict)
    return v is None or isinstance(v, str | int | float)


def _check_map(where: str, schema_key: str, d: Any) -> str:
    if not isinstance(d, dict):
        return f"{where} must be a mapping"
    allowed = SCHEMA[schema_key]
    for k, v in d.items():
        if k not in allowed:
            near = difflib.get_close_matches(str(k), allowed, 1)
            return f"unknown key {where}.{k}" + (f" (did you mean {near[0]}?)" if near else "")
        kind = allowed[k]
        if not _kind_ok(kind, v):
            return f"{where}.{k}: expected {'a number' if kind in ('num', 'int') else 'a ' + kind}, got {v!r}"
        if kind == "regex" and v:
            try:
                re.compile(str(v))
            except re.error as e:
                return f"{where}.{k}: invalid regular expression {v!r} ({e})"
        choices = CHOICES.get((schema_key, k))
        if choices and v not in choices:
            return f"{where}.{k}: {v!r} is not one of {', '.join(sorted(choices))}"
    return ""


def validate(data: dict[str, Any]) -> str:
    """The first problem in the parameters, as one line, or ""."""
    for k in data:
        if k not in TOP:
            near = difflib.get_close_matches(str(k), TOP, 1)
            return f"unknown key {k}" + (f" (did you mean {near[0]}?)" if near else "")
    for name, mode in (data.get("modes") or {}).items():
        if problem := _check_map(f"modes.{name}", "modes.*", mode):
            return problem
    for section in ("bench", "compare", "paired", "profile", "report"):
        if section in data and (problem := _check_map(section, section, data[section] or {})):
            return problem
    for i, rule in enumerate((data.get("compare") or {}).get("rules") or []):
        if problem := _check_map(f"compare.rules[{i}]", "compare.rules[]", rule):
            return problem
    return ""


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


def overridden(key: str, path: str | Path = "params.yaml") -> bool:
    """Whether this run's overrides set ``key`` explicitly: ``BENCHPIPE_OVERRIDES``, or the run's
    ``params.run.yaml`` beside ``path`` (where ``invoke`` records them)."""
    try:
        if key in json.loads(os.environ.get(ENV) or "{}"):
            return True
    except ValueError:
        pass
    run_file = Path(path).with_name(RUN_FILE)
    try:
        recorded = read_yaml(run_file.read_text(), run_file) if run_file.exists() else None
    except (OSError, BenchpipeError):
        return False
    return isinstance(recorded, dict) and key in flatten(recorded)


def like_baseline(cfg: dict[str, Any], meta: dict[str, Any], path: str | Path = "params.yaml") -> tuple[dict[str, Any], str]:
    """The mode's settings with the baseline's benchtime and -cpu list where the user did not set them
    (``bench.like_baseline``: compare like with like); returns the settings and a note saying what was taken."""
    s = meta.get("settings") or {}
    taken = []
    out = dict(cfg)
    for key in ("benchtime", "cpu"):
        if key in s and not overridden(f"modes.{cfg['mode']}.{key}", path) and str(s[key] or "") != str(cfg.get(key) or ""):
            out[key] = s[key]
            taken.append(f"{'-cpu' if key == 'cpu' else key} {s[key] or 'default'}")
    note = f"{' and '.join(taken)} taken from the baseline (compare like with like)" if taken else ""
    return out, note


def paired_config(params: dict[str, Any]) -> dict[str, Any]:
    """params.yaml's ``paired`` section with its defaults."""
    return {**PAIRED_DEFAULTS, **(params.get("paired") or {})}
