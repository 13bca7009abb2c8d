"""The report's benchmark tables: the one center of every (package, benchmark, unit), the quick table,
custom metrics, concurrency scaling, and the raw results grouped by package."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from benchpipe.core import benchfmt
from benchpipe.core.untrusted import visible
from benchpipe.core.verdict import Options
from benchpipe.render.report.fmt import fmt_median


@dataclass
class Centers:
    """Every center in the report (tables, targets, metrics.json) is :meth:`Options.summary`'s: one owner."""

    by_name: dict[tuple[str, str], float] = field(default_factory=dict)  # (benchmark, unit)
    by_pkg: dict[benchfmt.Key, float] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # benchmark names in the run's order
    n_samples: int = 0


def centers(rows: list[tuple[str, str, str, list[float]]], opts: Options) -> Centers:
    """The centers of the samples (package, benchmark, unit, values), in the run's order."""
    out = Centers()
    for pkg, name, unit, vals in rows:
        center = opts.summary(name, unit, list(vals)).center
        out.by_name[(name, unit)] = center
        out.by_pkg[(pkg, name, unit)] = center
        out.n_samples += len(vals)
        if name not in out.order:
            out.order.append(name)
    return out


def tables(c: Centers) -> dict[str, Any]:
    """The quick table (ns/op, B/op, allocs/op), custom units and the scaling table."""
    med = c.by_name
    quick = [
        {
            "name": n,
            "ns": fmt_median(med.get((n, "ns/op")), "ns/op"),
            "bytes": fmt_median(med.get((n, "B/op")), "B/op"),
            "allocs": fmt_median(med.get((n, "allocs/op")), "allocs/op"),
        }
        for n in c.order
    ]
    custom_units = sorted({u for (_, u) in med if u not in ("ns/op", "B/op", "allocs/op")})
    custom = [
        {"name": n, "vals": {u: fmt_median(med[(n, u)], u) for u in custom_units if (n, u) in med}}
        for n in c.order
        if any((n, u) in med for u in custom_units)
    ]
    rate_unit = next((u for u in custom_units if u.endswith("/s")), "")
    return {
        "quick": quick,
        "custom": custom,
        "custom_units": custom_units,
        "scaling_rate_unit": rate_unit,
        "scaling": scaling_rows(c.by_pkg, rate_unit),
        "n_samples": c.n_samples,
        "n_benchmarks": len(c.order),
    }


def scaling_rows(centers: dict[benchfmt.Key, float], rate_unit: str) -> list[dict[str, Any]]:
    """Benchmarks run at several GOMAXPROCS values (``-cpu``): ns/op, a rate unit and the speed-up vs 1."""
    procs: dict[tuple[str, str], dict[int, str]] = {}
    for pkg, name, _ in centers:
        procs.setdefault((pkg, benchfmt.base_name(name)), {})[benchfmt.procs(name)] = name
    out = []
    for (pkg, base), by_procs in sorted(procs.items(), key=lambda kv: kv[0][1]):
        if len(by_procs) < 2:
            continue
        one = centers.get((pkg, by_procs.get(1, ""), "ns/op"))
        for n in sorted(by_procs):
            ns = centers.get((pkg, by_procs[n], "ns/op"))
            rate = centers.get((pkg, by_procs[n], rate_unit)) if rate_unit else None
            out.append(
                {
                    "name": base,
                    "procs": n,
                    "ns": fmt_median(ns, "ns/op"),
                    "rate": fmt_median(rate, rate_unit) if rate is not None else "",
                    "speedup": f"{one / ns:.2f}×" if one and ns else "",
                }
            )
    return out


def detailed(raw: str) -> list[dict[str, str]]:
    """The raw result lines, grouped by package, each group in a fence longer than any backtick run in it;
    each line shown by :func:`benchpipe.core.untrusted.visible` (tabs kept): a unit's bidirectional override
    cannot reorder the block."""
    groups: dict[str, list[str]] = {}
    pkg = ""
    for line in raw.splitlines():
        if line.startswith("pkg: "):
            pkg = line[5:].strip()
        if line.startswith("Benchmark"):
            groups.setdefault(pkg, []).append(visible(line, tabs=True))
    out = []
    for pkg, lines in groups.items():
        text = "\n".join(lines)
        fence = "```"
        while fence in text:
            fence += "`"
        out.append({"title": pkg or "results", "text": text, "fence": fence})
    return out
