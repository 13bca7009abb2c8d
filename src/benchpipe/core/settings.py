"""params.yaml as a typed :class:`Settings` object: every parameter, its kind and its one default.

This module owns every default a missing parameter takes (params.yaml states the same values for the
user to read; a test greps the package for these literals elsewhere). :func:`parse` turns the merged
parameters (params.yaml, params.run.yaml, overrides: see :mod:`benchpipe.store.params`) into
:class:`Settings`, and every problem into one line: a misspelt key (with a did-you-mean), a value of the
wrong kind, a bad regular expression or a value outside its choices. The models are msgspec Structs that
refuse unknown fields; msgspec's errors are translated into those lines (:func:`_explain`).
"""

from __future__ import annotations

import difflib
import re
from typing import Any, ClassVar, Literal

import msgspec

from benchpipe.core import selection
from benchpipe.core.errors import BenchpipeError

Scalar = str | int | float | None  # what a free-text parameter may be written as in YAML (cpu: 4)


class _Section(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of a params.yaml section: unknown keys are errors; regex fields are checked."""

    _REGEX: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        for name in self._REGEX:
            v = getattr(self, name)
            if v:
                try:
                    selection.check(str(v), name)
                except BenchpipeError as e:
                    raise ValueError(e.message) from None


class Mode(_Section, kw_only=True):
    """One entry of ``modes``: what the bench stage runs."""

    _REGEX = ("bench",)
    packages: list[str] | str = msgspec.field(default_factory=lambda: ["./..."])
    bench: Scalar = "."
    count: int = 1
    benchtime: Scalar = "1s"
    cpu: Scalar = ""
    timeout: Scalar = "10m"
    profile: Literal["all", "flagged"] = "all"

    @property
    def package_list(self) -> list[str]:
        pk = self.packages
        return pk.split() if isinstance(pk, str) else [str(x) for x in pk]


class BenchSection(_Section, kw_only=True):
    stall_s: float = 60.0
    like_baseline: Scalar = ""
    shard: str = ""  # K/N: run only shard K of N of the benchmark set (see core.shards)

    def __post_init__(self) -> None:
        if self.shard:
            from benchpipe.core.shards import parse

            try:
                parse(self.shard)
            except BenchpipeError as e:
                raise ValueError(f"shard: {e.message}") from None


class RuleSection(_Section, kw_only=True):
    _REGEX = ("benchmark",)
    unit: Scalar = ""
    benchmark: Scalar = ""
    threshold_pct: float | None = None
    assume: Literal["exact", "nothing"] | None = None
    ignore: bool = False


class CompareSection(_Section, kw_only=True):
    baseline: Scalar = "main"
    threshold_pct: float = 10.0
    alpha: float = 0.05
    confidence: float = 0.95
    warn_min_pct: float | None = None
    rules: list[RuleSection] = []
    confirm: bool = True
    # confirmation's budget is the run's own time, hard, but at least this: building and starting the
    # baseline's revision is a fixed cost no scaling of the rounds can cut
    confirm_min_s: float = 10.0


class PairedSection(_Section, kw_only=True):
    rounds: int = 16
    benchtime: Scalar = "100ms"
    confirm_rounds: int = 6
    order: Literal["alternate", "shuffle"] = "alternate"
    early_stop: bool = True


class GcThresholds(_Section, kw_only=True):
    """GC pressure: High / Medium when either measure reaches its mark."""

    high_gc_pct: float = 25.0
    medium_gc_pct: float = 10.0
    high_mb_per_s: float = 1000.0
    medium_mb_per_s: float = 200.0


class ProfileSection(_Section, kw_only=True):
    _REGEX = ("bench",)
    enabled: bool = True
    bench: Scalar = ""
    benchtime: Scalar = "1s"
    memprofilerate: int = 1
    top: int = 15
    node_threshold: float = 0.5
    edge_threshold: float = 0.1
    gc_thresholds: GcThresholds = msgspec.field(default_factory=GcThresholds)
    min_samples: int = 1000
    max_s: float = 15.0
    trace: bool = False


class Target(_Section, kw_only=True):
    """A row of the report's Performance Targets: the worst matching median is judged (:meth:`judge`).
    ``target`` and ``critical`` are quantities in the unit (``1ms``, ``10KB``, ``5000``), read here: a bad
    one is an error of params.yaml, not of the report."""

    _REGEX = ("benchmark",)
    metric: str
    benchmark: str
    unit: str = "ns/op"
    target: str | float
    critical: str | float

    def __post_init__(self) -> None:
        super().__post_init__()
        from benchpipe.core.units import parse_quantity

        for name in ("target", "critical"):
            try:
                parse_quantity(getattr(self, name), self.unit)
            except ValueError as e:
                raise ValueError(f"{name}: {e}") from None

    def judge(self, worst: float) -> str:
        """PASS under the target, WARN under the critical mark, else FAIL."""
        from benchpipe.core.units import parse_quantity

        if worst < parse_quantity(self.target, self.unit):
            return "PASS"
        return "WARN" if worst < parse_quantity(self.critical, self.unit) else "FAIL"


class ReportSection(_Section, kw_only=True):
    _REGEX = ("trend_benchmarks",)
    trend_runs: int = 30
    trend_benchmarks: Scalar = "."
    trend_max: int = 8
    targets: list[Target] = []


class HistorySection(_Section, kw_only=True):
    """Where the run history lives: a local directory or an object-store URL (``s3://bucket/prefix``);
    ``BENCHPIPE_HISTORY`` overrides it. Credentials never go here (the AWS environment has them)."""

    store: str = "reports/history"
    baseline_runs: int = 3  # a history baseline pools up to this many newest matching runs ...
    baseline_samples: int = 6  # ... until each benchmark has this many samples


class PublishSection(_Section, kw_only=True):
    """The published dashboard (``benchpipe publish``)."""

    commit_url: str = ""  # e.g. https://github.com/ORG/REPO/commit/{commit}: commits become links
    moved_runs: int = 10  # the index's "moved" view: a change point within this many newest runs
    baseline_branch: str = "main"  # "vs baseline": the newest run of this branch


class InstructionsSection(_Section, kw_only=True):
    """The instruction-count measure (``measure: instructions``; :mod:`benchpipe.go.instructions`)."""

    threshold_pct: float = 1.0  # an instructions/op change worse than this is a regression (exact: no U test)
    budget: int = 200_000_000  # instructions between a result's two runs (~1 s of valgrind each)


class CulpritSection(_Section, kw_only=True):
    """Culprit finding on the default branch (``benchpipe culprit``: :mod:`benchpipe.revisions.culprit`)."""

    max_s: float = 1800.0  # the search's budget: past it, the narrowest range proven is named
    improvements: bool = False  # attribute improvements too (regressions only by default)


class ImpactSection(_Section, kw_only=True):
    """Impact selection in ``compare --base`` (:mod:`benchpipe.core.impact`): only the benchmarks that
    execute the changed code run."""

    enabled: bool = True  # off: every benchmark of the packages runs (as ``--all``)
    max_age: int = 50  # first-parent commits a stored map may be older than the merge base; past it, all run
    build_missing: bool = True  # no map stored for an ancestor: build the merge base's (else package-level)


def default_modes() -> dict[str, Mode]:
    """The modes without a params.yaml (or one that names none), as the seed defines them: ``quick``, every
    package at count 3 (profiling what compare flags), and ``full``, count 5 at 3 s with every benchmark
    profiled."""
    return {
        "quick": Mode(count=3, profile="flagged"),
        "full": Mode(count=5, benchtime="3s", timeout="60m"),
    }


class Settings(_Section, kw_only=True):
    """The parsed parameters. ``modes`` are checked one by one (msgspec does not name dict keys)."""

    target: str = "."  # the Go module: without a params.yaml, the directory benchpipe runs in
    mode: str = "quick"
    measure: Literal["time", "instructions"] = (
        "time"  # wall time (go test), or instructions/op under valgrind
    )
    modes: dict[str, Mode] = msgspec.field(default_factory=lambda: default_modes())
    bench: BenchSection = msgspec.field(default_factory=BenchSection)
    compare: CompareSection = msgspec.field(default_factory=CompareSection)
    paired: PairedSection = msgspec.field(default_factory=PairedSection)
    profile: ProfileSection = msgspec.field(default_factory=ProfileSection)
    report: ReportSection = msgspec.field(default_factory=ReportSection)
    history: HistorySection = msgspec.field(default_factory=HistorySection)
    publish: PublishSection = msgspec.field(default_factory=PublishSection)
    instructions: InstructionsSection = msgspec.field(default_factory=InstructionsSection)
    culprit: CulpritSection = msgspec.field(default_factory=CulpritSection)
    impact: ImpactSection = msgspec.field(default_factory=ImpactSection)

    def mode_settings(self) -> Mode:
        """The selected mode's settings."""
        if self.mode not in self.modes:
            raise BenchpipeError(
                f"params: mode {self.mode!r} is not one of {', '.join(self.modes) or 'none'}"
            )
        return self.modes[self.mode]


def parse(data: dict[str, Any]) -> Settings:
    """The typed settings of merged parameters; one-line :class:`BenchpipeError` (no file name) on a
    problem."""
    data = {k: v for k, v in data.items() if v is not None}  # an empty section: its defaults
    modes = data.get("modes")
    if isinstance(modes, dict):
        for name, mode in modes.items():
            _convert(mode, Mode, f"modes.{name}")
    return _convert(data, Settings, "")


def _convert(data: Any, model: type, where: str) -> Any:
    if not isinstance(data, dict):
        raise BenchpipeError(f"{where or 'parameters'} must be a mapping")
    try:
        return msgspec.convert(data, model, strict=True)
    except msgspec.ValidationError as e:
        raise BenchpipeError(_explain(str(e), data, model, where)) from None


_AT = re.compile(r"^(?P<msg>.*) - at `\$(?P<path>.*)`$")
_KINDS = {
    "int": "a number",
    "float": "a number",
    "int | float": "a number",
    "bool": "a bool",
    "array": "a list",
    "object": "a map",
    "str": "a str",
}


def _explain(message: str, data: dict[str, Any], model: type, where: str) -> str:
    """msgspec's validation message as benchpipe's one line: path, what was expected, what was found."""
    m = _AT.match(message)
    msg, rel = (m["msg"], m["path"]) if m else (message, "")
    steps = [s for s in re.findall(r"\.([A-Za-z_]\w*)|\[(\d+)\]", rel)]
    keys: list[str | int] = [name if name else int(idx) for name, idx in steps]
    path = where + "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys)
    path = path.lstrip(".")
    value, owner, here = _walk(data, model, keys)
    if u := re.fullmatch(r"Object contains unknown field `(.*)`", msg):
        key = u[1]
        near = difflib.get_close_matches(key, _fields(here), 1)
        return f"unknown key {path + '.' if path else ''}{key}" + (
            f" (did you mean {near[0]}?)" if near else ""
        )
    if x := re.fullmatch(r"Expected `(.*?)`, got `.*`", msg):
        expected = x[1]
        if expected == "object" and _is_struct(here):
            return f"{path} must be a mapping"
        kind = next((k for e, k in _KINDS.items() if expected.startswith(e)), f"a {expected}")
        if "array" in expected:
            kind = "a list"
        return f"{path}: expected {kind}, got {value!r}"
    if msg.startswith("Invalid enum value"):
        choices = _choices(owner, str(keys[-1]) if keys else "")
        return f"{path}: {value!r} is not one of {', '.join(sorted(choices))}"
    return f"{path + '.' if path else ''}{msg}"


def _walk(data: Any, model: Any, keys: list[str | int]) -> tuple[Any, Any, Any]:
    """The value at ``keys``, the type that holds its last key and the value's own type."""
    owner, value, typ = model, data, model
    for k in keys:
        owner = typ
        value = value[k] if isinstance(value, (dict, list)) and (isinstance(k, int) or k in value) else None
        typ = _field_type(typ, k)
    return value, owner, typ


def _field_type(typ: Any, key: str | int) -> Any:
    import typing

    if isinstance(key, int):
        args = [a for a in typing.get_args(typ) if typing.get_origin(a) is list] or [typ]
        inner = typing.get_args(args[0])
        return inner[0] if inner else None
    if _is_struct(typ):
        hints = typing.get_type_hints(typ)
        return hints.get(key)
    return None


def _is_struct(typ: Any) -> bool:
    return isinstance(typ, type) and issubclass(typ, msgspec.Struct)


def _fields(typ: Any) -> list[str]:
    return list(typ.__struct_fields__) if _is_struct(typ) else []


def _choices(owner: Any, key: str) -> list[str]:
    import typing

    hint = typing.get_type_hints(owner).get(key) if _is_struct(owner) else None
    out: list[str] = []
    for a in typing.get_args(hint) or ():
        out += [str(x) for x in typing.get_args(a)] if typing.get_origin(a) is Literal else []
    if typing.get_origin(hint) is Literal:
        out = [str(x) for x in typing.get_args(hint)]
    return out


DEFAULT_MODE = Mode()  # what a run that records no setting ran with
