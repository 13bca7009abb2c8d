"""The Performance Targets section: each target judged (:meth:`benchpipe.core.settings.Target.judge`) on the
worst matching median."""

from __future__ import annotations

from typing import Any

from benchpipe.core import selection
from benchpipe.core.settings import Target
from benchpipe.render.report.fmt import fmt_median

_MARK = {"PASS": "✅ PASS", "WARN": "⚠️ WARN", "FAIL": "❌ FAIL"}


def evaluate_targets(targets: list[Target], med: dict[tuple[str, str], float]) -> list[dict[str, Any]]:
    out = []
    for t in targets:
        vals = [v for (name, u), v in med.items() if u == t.unit and selection.selects(t.benchmark, name)]
        if not vals:
            measured, status = "not measured", "—"
        else:
            worst = max(vals)
            measured = fmt_median(worst, t.unit) + f" {t.unit}"
            status = _MARK[t.judge(worst)]
        out.append(
            {
                "metric": t.metric,
                "target": t.target,
                "critical": t.critical,
                "measured": measured,
                "status": status,
            }
        )
    return out
