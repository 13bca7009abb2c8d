"""A series' whole history as an SVG chart: one focusable point per run at its median, its 95% interval,
and a dashed line where a change point begins (labelled with its size). Point details (run, commit, date,
value) are each point's aria-label; the page's script shows it on hover or focus."""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchpipe.core.units import human
from benchpipe.render.geometry import Frame
from benchpipe.render.site.text import esc, esc_all

if TYPE_CHECKING:
    from benchpipe.render.site import Series

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 900, 300, 70, 16, 20, 34


def chart(s: Series) -> str:
    ys = [v for v in s.center] + [v for v in s.lo if v is not None] + [v for v in s.hi if v is not None]
    frame = Frame.fit(ys, len(s.center), W, H, (PAD_L, PAD_R, PAD_T, PAD_B))
    x, y = frame.x, frame.y

    out = [
        f'<svg id="chart" class="chart" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="group" '
        f'aria-label="{esc(s.benchmark)} {esc(s.unit)}: {len(s.center)} runs">'
    ]
    for v in frame.ticks():
        out.append(
            f'<line class="axis" x1="{PAD_L}" x2="{W - PAD_R}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
            f'<text x="{PAD_L - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{esc(human(v, s.unit))}</text>'
        )
    for cp in s.changes:
        cx = frame.change_x(cp.index)
        out.append(
            f'<line class="cp" data-index="{cp.index}" x1="{cx:.1f}" x2="{cx:.1f}" y1="{PAD_T}" '
            f'y2="{H - PAD_B}"/><text class="cp" x="{cx + 3:.1f}" '
            f'y="{PAD_T + 10}">{cp.change_pct:+.1f}%</text>'
        )
    out.append(
        '<polyline points="' + " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s.center)) + '"/>'
    )
    labels = esc_all(
        [
            f"run {s.run_id[i]} · commit {s.commit[i][:12] or '-'} · {s.time[i][:19]} · {human(v, s.unit)}"
            for i, v in enumerate(s.center)
        ]
    )
    for i, v in enumerate(s.center):
        if s.lo[i] is not None and s.hi[i] is not None:
            out.append(
                f'<line class="ci" x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{y(s.lo[i]):.1f}" '
                f'y2="{y(s.hi[i]):.1f}"/>'
            )
        out.append(f'<circle tabindex="0" r="3.5" cx="{x(i):.1f}" cy="{y(v):.1f}" aria-label="{labels[i]}"/>')
    out.append(
        f'<text x="{PAD_L}" y="{H - 10}">{esc(s.time[0][:10])}</text><text x="{W - PAD_R}" y="{H - 10}" '
        f'text-anchor="end">{esc(s.time[-1][:10])} ({len(s.center)} runs)</text></svg>'
    )
    return "".join(out)
