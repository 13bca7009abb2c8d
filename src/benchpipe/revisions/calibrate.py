"""Calibration: how much a benchmark's paired head/base ratio moves when nothing changed.

``benchpipe calibrate`` runs a revision against itself (A/A) in interleaved
rounds, then, per benchmark and unit, bootstraps the median of the per-round
ratios for several round counts. The 99th percentile of |median ratio - 1|
is the smallest threshold that keeps false alarms under 1% at that many
rounds (the noise floor). The result is stored per target in the cache
directory, and paired comparisons warn when their threshold is below it.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchpipe.core import stats
from benchpipe.core.units import UnitInfo
from benchpipe.core.verdict import Comparison, Options
from benchpipe.go import machine
from benchpipe.revisions import paired
from benchpipe.store import atomic

ROUND_COUNTS = (6, 10, 15, 20, 30)


def store_path(cache: Path, target: Path) -> Path:
    key = hashlib.sha1(str(target.resolve()).encode()).hexdigest()[:16]
    return cache / "calibration" / f"{key}.json"


def noise_floor(ratios: list[float], rounds: int, rng: random.Random, resamples: int = 2000) -> float:
    """99th percentile of |median - 1| (in %) of the median of ``rounds`` resampled ratios."""
    devs = []
    for _ in range(resamples):
        pick = sorted(rng.choice(ratios) for _ in range(rounds))
        devs.append(abs(stats.quantile_r8(pick, 0.5) - 1))
    devs.sort()
    return 100 * devs[min(len(devs) - 1, int(0.99 * len(devs)))]


def analyze(samples: paired.RoundValues, opts: Options, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    out: dict[str, Any] = {}
    base_v, head_v = samples.values["base"], samples.values["head"]
    for key in sorted(base_v):
        pkg, name, unit = key
        if key not in head_v:
            continue
        _, exact, ignore = opts.resolve(name, unit, samples.units.get(unit) or _unit(unit))
        if exact or ignore:
            continue
        common = sorted(r for r in base_v[key] if r in head_v[key])
        ratios = [head_v[key][r] / base_v[key][r] for r in common if base_v[key][r] > 0]
        if len(ratios) < 3:
            continue
        logs = [math.log(r) for r in ratios if r > 0]
        mean = sum(logs) / len(logs)
        sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / max(1, len(logs) - 1))
        floors = {str(n): round(noise_floor(ratios, n, rng), 2) for n in ROUND_COUNTS}
        safe = next((n for n in ROUND_COUNTS if floors[str(n)] < _threshold(opts, name, unit)), None)
        out[f"{name} {unit}"] = {
            "package": pkg,
            "benchmark": name,
            "unit": unit,
            "rounds": len(ratios),
            "spread_pct": round(100 * (math.exp(sd) - 1), 2),
            "noise_floor_pct": floors,
            "rounds_for_threshold": safe,
            "threshold_pct": _threshold(opts, name, unit),
        }
    return out


def _unit(unit: str):

    return UnitInfo(unit)


def _threshold(opts: Options, name: str, unit: str) -> float:
    return opts.resolve(name, unit, _unit(unit))[0]


def floor_for(entry: dict[str, Any], rounds: int) -> float:
    """The stored noise floor for the largest calibrated round count <= rounds."""
    best = None
    for n in ROUND_COUNTS:
        if n <= rounds:
            best = entry["noise_floor_pct"].get(str(n), best)
    return best if best is not None else entry["noise_floor_pct"][str(ROUND_COUNTS[0])]


def threshold_warnings(plan: paired.Plan, c: Comparison) -> list[str]:
    path = store_path(plan.cache, plan.target)
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text())
    except ValueError:
        return [f"calibration file {path} is unreadable; run `benchpipe calibrate` again"]
    out = []
    for r in c.rows:
        entry = data.get("benchmarks", {}).get(f"{r.benchmark} {r.unit}")
        if entry and r.threshold_pct < floor_for(entry, plan.rounds):
            out.append(
                f"{r.benchmark} {r.unit}: threshold {r.threshold_pct:g}% is below this machine's noise "
                f"floor {floor_for(entry, plan.rounds):.1f}% at {plan.rounds} rounds (benchpipe calibrate)"
            )
    return out


def calibrate(plan: paired.Plan, opts: Options) -> dict[str, Any]:
    """Run ``plan``'s revision against itself; store and return each benchmark's noise floor."""
    out = paired.execute(plan, opts)
    result = {
        "target": str(plan.target.resolve()),
        "rev": out.facts.base,
        "rounds": plan.rounds,
        "benchtime": plan.benchtime,
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {**machine.go_env(), "cpu": machine.cpu_model()},
        "benchmarks": analyze(out.samples, opts),
        "stored": str(store_path(plan.cache, plan.target)),
    }
    atomic.write_json(store_path(plan.cache, plan.target), result)
    return result
