"""The Markdown report (Jinja2), built section by section from typed inputs.

Each section has its builder here: the summary and benchmark tables (:mod:`.metrics`), the comparison
(:mod:`.comparison`), memory (:mod:`.memory`), CPU profiles (:mod:`.cpu`), trends (:mod:`.trends`),
benchmark health (:mod:`.health`), recommendations (:mod:`.recommendations`) and the performance targets
(:mod:`.targets`); :func:`build_context` joins them, :func:`render` fills ``templates/report.md.j2``.
The report stage (:mod:`benchpipe.stages.report`) only loads the inputs and writes the outputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from benchpipe.core.artifacts import BenchMeta, CompareDoc, ProfileDoc
from benchpipe.core.settings import Settings
from benchpipe.core.verdict import Options
from benchpipe.render.report import comparison, cpu, health, memory, metrics, recommendations, targets
from benchpipe.render.report.fmt import Files, code_escape
from benchpipe.render.text import md_escape
from benchpipe.store import cachedir

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


@dataclass
class Inputs:
    """What the report is made of, as the report stage loaded it."""

    meta: BenchMeta
    raw: str  # bench.txt
    samples: list[tuple[str, str, str, list[float]]]  # (package, benchmark, unit, values) in the run's order
    cmp: CompareDoc
    prof: ProfileDoc
    settings: Settings
    profile_dir: Path
    history: dict[str, Any] = field(
        default_factory=dict
    )  # history_note, trends (series), stability (centers)
    root: Path = Path(
        "."
    )  # where the user runs commands from (paths the report tells them are relative to it)


def build_context(inp: Inputs, files: Files) -> dict[str, Any]:
    """The template's context; the files it links to are named in ``files`` for the stage to write."""
    opts = Options.from_settings(inp.settings.compare, inp.settings.instructions)
    c = metrics.centers(inp.samples, opts)
    ctx: dict[str, Any] = {
        "run": inp.meta,
        "detailed": metrics.detailed(inp.raw),
        "medians": c.by_name,
        **metrics.tables(c),
        **comparison.comparison(inp.cmp),
        **cpu.cpu(inp.prof, inp.profile_dir, files, inp.root),
        **memory.memory(inp.meta, inp.prof, c, inp.settings.profile.gc_thresholds),
        "targets": targets.evaluate_targets(inp.settings.report.targets, c.by_name),
        "health": health.health_rows(inp.cmp, inp.prof),
        "explanations": inp.cmp.explanations,
    }
    ctx.update(
        recommendations.recommendations(ctx, inp.cmp.threshold_pct, bool(inp.cmp.rows), inp.cmp.baseline)
    )
    return ctx


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """The compiled template, kept in the user's cache (Jinja checks it against the template's source)."""
    path = cachedir.cache_root() / "templates"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # no writable cache: compile every time
    return jinja2.FileSystemBytecodeCache(str(path))


def render(ctx: dict[str, Any]) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        bytecode_cache=_bytecode_cache(),
    )
    env.filters["md"] = lambda s: md_escape(str(s))
    env.filters["code"] = code_escape
    text = env.get_template("report.md.j2").render(**ctx)
    return re.sub(r"\n{3,}", "\n\n", text)
