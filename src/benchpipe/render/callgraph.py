"""Call graphs: pprof samples -> gprof2dot (its JSON input) -> graphviz ``dot`` -> SVG.

gprof2dot has no pprof reader; its JSON format takes functions and events
whose callchain lists function indices leaf first. Inlined frames are kept as
their own functions, as pprof shows them. When ``dot`` is missing the ``.dot``
file is kept and the caller gets a note instead of an SVG.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from benchpipe.core.pprof import Profile
from benchpipe.store import atomic


def gprof2dot_json(profile: Profile, sample_index: int, description: str, unit: str) -> dict:
    index: dict[tuple[str, str], int] = {}
    functions: list[dict[str, str]] = []
    events = []
    for smp in profile.samples:
        v = smp.values[sample_index]
        if v <= 0:
            continue
        chain = []
        for name, file, _line in profile.frames(smp):
            key = (name, file)
            if key not in index:
                index[key] = len(functions)
                module = name.rsplit("/", 1)[-1].split(".", 1)[0] if "." in name else ""
                functions.append({"name": name, "module": module})
            chain.append(index[key])
        if chain:
            events.append({"callchain": chain, "cost": [v]})
    return {
        "version": 0,
        "costs": [{"description": description, "unit": unit}],
        "functions": functions,
        "events": events,
    }


def render(
    data: dict, out_svg: Path, node_thres: float, edge_thres: float, colors: dict[str, str] | None = None
) -> tuple[Path | None, str]:
    """Write ``out_svg`` (and the ``.dot`` beside it); return (svg or None, note)."""
    dot_path = out_svg.with_suffix(".dot")
    cmd = [
        sys.executable,
        "-m",
        "gprof2dot",
        "-f",
        "json",
        "-n",
        str(node_thres),
        "-e",
        str(edge_thres),
        "--skew=0.5",
    ]
    p = subprocess.run(cmd, input=json.dumps(data), capture_output=True, text=True)
    if p.returncode != 0:
        return None, f"gprof2dot failed: {(p.stderr.strip().splitlines() or ['?'])[-1]}"
    dot_text = p.stdout
    if colors:
        dot_text = recolor(dot_text, colors)
    atomic.write_text(dot_path, dot_text)
    if not shutil.which("dot"):
        return (
            None,
            f"graphviz `dot` not found on PATH: call graph kept as {dot_path.name} (install graphviz)",
        )
    q = subprocess.run(["dot", "-Tsvg"], input=dot_text, capture_output=True, text=True)
    if q.returncode != 0:
        return None, f"dot failed: {(q.stderr.strip().splitlines() or ['?'])[-1]}"
    atomic.write_text(out_svg, q.stdout)
    return out_svg, ""


REDS = ["#fee0d2", "#fcbba1", "#fc9272", "#fb6a4a", "#de2d26", "#a50f15"]
BLUES = ["#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"]


def change_colors(delta: dict[str, float]) -> dict[str, str]:
    """Node colours by each function's change of cost: reds slower, blues faster, grey under 2% of the
    largest change."""
    biggest = max((abs(v) for v in delta.values()), default=0.0)
    if biggest <= 0:
        return {}
    out = {}
    for name, d in delta.items():
        level = min(len(REDS) - 1, int(abs(d) / biggest * len(REDS)))
        out[name] = "#eeeeee" if abs(d) < 0.02 * biggest else (REDS if d > 0 else BLUES)[level]
    return out


def recolor(dot_text: str, colors: dict[str, str]) -> str:
    """Recolour nodes whose label starts with a function name in ``colors``."""
    out = []
    for line in dot_text.splitlines():
        if "->" not in line and 'label="' in line:
            parts = line.split('label="', 1)[1].split('"', 1)[0].split("\\n")
            color = colors.get(parts[1]) if len(parts) > 1 else None
            if color:
                dark = sum(int(color[i : i + 2], 16) for i in (1, 3, 5)) < 3 * 140
                line = _set_attr(
                    _set_attr(line, "color", color), "fontcolor", "#ffffff" if dark else "#000000"
                )
        out.append(line)
    return "\n".join(out) + "\n"


def _set_attr(line: str, attr: str, value: str) -> str:
    import re

    return re.sub(rf'\b{attr}="[^"]*"', f'{attr}="{value}"', line, count=1)
