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
from typing import TYPE_CHECKING, Any

from benchpipe.core.errors import BenchpipeError

if TYPE_CHECKING:  # the models (msgspec) load when parameters are read, not for `benchpipe --help`
    from benchpipe.core.artifacts import BenchMeta
    from benchpipe.core.settings import Mode, Settings

ENV = "BENCHPIPE_OVERRIDES"


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
RUN_FILE_HEADER = (
    "# Overrides of the last `invoke` run (written by `benchpipe settings`; `dvc repro` applies them\n"
    "# too). An empty mapping: params.yaml as it is. Commit it with dvc.lock.\n"
)


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


def merged(
    path: str | Path = "params.yaml", overrides: dict[str, Any] | None = None, run_file: bool = True
) -> dict[str, Any]:
    """params.yaml with the run's overrides applied (``params.run.yaml``, ``BENCHPIPE_OVERRIDES``, then
    ``overrides``), as a nested mapping; not yet checked."""
    p = Path(path)
    try:
        # no params.yaml where a command runs: every default (the module in this directory), as go test
        # needs no configuration; a file named explicitly must exist
        data = {} if str(path) == "params.yaml" and not p.exists() else read_yaml(p.read_text(), p) or {}
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
    return data


def load(
    path: str | Path = "params.yaml", overrides: dict[str, Any] | None = None, run_file: bool = True
) -> Settings:
    """The run's settings, parsed once (:func:`benchpipe.core.settings.parse`); a problem is one line
    naming the file."""
    from benchpipe.core.settings import parse

    data = merged(path, overrides, run_file)
    try:
        return parse(data)
    except BenchpipeError as e:
        raise BenchpipeError(f"{path}: {e.message}") from None


def load_optional(path: str | None) -> Settings:
    """``path``'s settings; without one, ./params.yaml's where it exists, else every default."""
    from benchpipe.core.settings import Settings

    if path:
        return load(path)
    return load("params.yaml") if Path("params.yaml").exists() else Settings()


def validate(data: dict[str, Any]) -> str:
    """The first problem in merged parameters, as one line, or ""."""
    from benchpipe.core.settings import parse

    try:
        parse(data)
    except BenchpipeError as e:
        return e.message
    return ""


def target_dir(settings: Settings, root: Path | None = None) -> Path:
    t = Path(settings.target).expanduser()
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


def like_baseline(
    mode: Mode, mode_name: str, meta: BenchMeta, path: str | Path = "params.yaml"
) -> tuple[Mode, str]:
    """The mode's settings with the baseline's benchtime and -cpu list where the user did not set them
    (``bench.like_baseline``: compare like with like); returns the settings and a note saying what was
    taken."""
    import msgspec

    s = meta.settings
    if s is None:
        return mode, ""
    taken = []
    out = mode
    for key in ("benchtime", "cpu"):
        theirs = getattr(s, key)
        if (
            theirs is not None
            and not overridden(f"modes.{mode_name}.{key}", path)
            and str(theirs or "") != str(getattr(mode, key) or "")
        ):
            out = msgspec.structs.replace(out, **{key: theirs})
            taken.append(f"{'-cpu' if key == 'cpu' else key} {theirs or 'default'}")
    note = f"{' and '.join(taken)} taken from the baseline (compare like with like)" if taken else ""
    return out, note
