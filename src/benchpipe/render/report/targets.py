"""The Performance Targets section: each target judged on the worst matching median."""

from __future__ import annotations

import re
from typing import Any

from benchpipe.core.settings import Target
from benchpipe.render.report.fmt import fmt_median, parse_quantity


def evaluate_targets(targets: list[Target], med: dict[tuple[str, str], float]) -> list[dict[str, Any]]:
    out = []
    for t in targets:
        pat = re.compile(t.benchmark)
        vals = [v for (name, u), v in med.items() if u == t.unit and pat.search(name)]
        target, critical = parse_quantity(t.target, t.unit), parse_quantity(t.critical, t.unit)
        if not vals:
            measured, status = "not measured", "—"
        else:
            worst = max(vals)
            measured = fmt_median(worst, t.unit) + f" {t.unit}"
            status = "✅ PASS" if worst < target else "⚠️ WARN" if worst < critical else "❌ FAIL"
        out.append({"metric": t.metric, "target": t.target, "critical": t.critical, "measured": measured,
                    "status": status})
    return out
