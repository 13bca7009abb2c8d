"""Trend charts: a benchmark's history as a small SVG with change points marked.

Hand-written SVG (no plotting library): one point per run at its median,
a vertical bar for the 95% interval, and a dashed red line where a change
point begins, labelled with the size of the shift.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from benchpipe.core.changepoint import ChangePoint
from benchpipe.render.geometry import Frame

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 640, 220, 70, 16, 28, 34


def svg(title: str, unit: str, points: list[dict[str, Any]], changes: list[ChangePoint]) -> str:
    ys = (
        [p["center"] for p in points]
        + [p["lo"] for p in points if p.get("lo") is not None]
        + [p["hi"] for p in points if p.get("hi") is not None]
    )
    frame = Frame.fit(ys, len(points), W, H, (PAD_L, PAD_R, PAD_T, PAD_B))
    x, y = frame.x, frame.y

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        'font-family="Arial, sans-serif" font-size="11">',
        f'<rect width="{W}" height="{H}" fill="#ffffff"/>',
        f'<text x="{PAD_L}" y="16" font-size="13" font-weight="bold">{escape(title)} ({escape(unit)})</text>',
    ]
    for v in frame.ticks():
        out.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e0e0e0"/>')
        out.append(f'<text x="{PAD_L - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.4g}</text>')
    for cp in changes:
        cx = frame.change_x(cp.index)
        out.append(
            f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{PAD_T}" y2="{H - PAD_B}" stroke="#d62728" '
            'stroke-dasharray="4,3"/>'
        )
        out.append(f'<text x="{cx + 3:.1f}" y="{PAD_T + 10}" fill="#d62728">{cp.change_pct:+.1f}%</text>')
    path = " ".join(f"{x(i):.1f},{y(p['center']):.1f}" for i, p in enumerate(points))
    if points:
        out.append(f'<polyline points="{path}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>')
    for i, p in enumerate(points):
        if p.get("lo") is not None and p.get("hi") is not None:
            out.append(
                f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{y(p["lo"]):.1f}" y2="{y(p["hi"]):.1f}" '
                'stroke="#1f77b4" stroke-opacity="0.4"/>'
            )
        out.append(
            f'<circle cx="{x(i):.1f}" cy="{y(p["center"]):.1f}" r="2.5" fill="#1f77b4">'
            f"<title>{escape(p.get('commit', '')[:12])} {escape(p.get('time', ''))}: "
            f"{p['center']:.4g}</title>"
            "</circle>"
        )
    if points:
        out.append(f'<text x="{PAD_L}" y="{H - 10}">{escape(points[0].get("time", "")[:10])}</text>')
        out.append(
            f'<text x="{W - PAD_R}" y="{H - 10}" text-anchor="end">'
            f"{escape(points[-1].get('time', '')[:10])} ({len(points)} runs)</text>"
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"
