"""The ``profile`` stage: CPU and memory profiles and an execution trace of the
selected benchmarks, their hotspot tables and call graphs.

Which benchmarks: the ``profile.bench`` regex from params when set; else the
benchmarks the compare stage flagged as regressed; else the mode's set. Each
package is profiled in its own run so profiles never mix. Memory profiles
record every allocation at ``profile.memprofilerate`` (1 by default) in a
separate run from the CPU profile, so allocation sampling does not distort
CPU time.

Output (a DVC directory output): per package the test binary, ``cpu.prof``,
``mem.prof``, ``trace.out``, call-graph SVGs, and ``profile.json`` with the
flat/cumulative CPU tables, allocation hotspots and GC-pressure facts.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from . import atomic, callgraph, gotest, pprof
from .errors import BenchpipeError

GC_FUNCS = re.compile(r"^runtime\.(gc|mallocgc|scanobject|greyobject|markBits|sweepone|bgsweep|bgscavenge|"
                      r"gcDrain|gcBgMarkWorker|memclrNoHeapPointers|newobject|makeslice|growslice|"
                      r"nextFreeFast|heapBitsSetType|mProf|mallocgc.*)")


def select_benchmarks(params: dict[str, Any], compare_json: Path | None, default: str) -> tuple[str, str]:
    """The benchmark regex to profile and why it was chosen."""
    explicit = str((params.get("profile") or {}).get("bench") or "")
    if explicit:
        return explicit, "profile.bench in params"
    if compare_json and compare_json.exists():
        try:
            data = json.loads(compare_json.read_text())
        except ValueError:
            data = {}
        names = sorted({re.sub(r"-\d+$", "", r["benchmark"]) for r in data.get("rows", [])
                        if r.get("verdict") == "regression"})
        if names:
            return "^(" + "|".join(re.escape(n) for n in names) + ")$", "regressed in compare"
    return default, "the mode's benchmark set"


def summarize_cpu(prof: pprof.Profile, limit: int) -> dict[str, Any]:
    costs, total = pprof.top(prof, "cpu")
    gc = sum(c.flat for c in costs if GC_FUNCS.match(c.name))
    rows = [{"function": c.name, "file": c.file, "line": c.line, "flat": c.flat, "cum": c.cum,
             "flat_pct": 100 * c.flat / total if total else 0.0, "cum_pct": 100 * c.cum / total if total else 0.0}
            for c in costs]
    by_cum = sorted(rows, key=lambda r: (-r["cum"], r["function"]))
    return {"total_ns": total, "duration_ns": prof.duration_nanos, "samples": len(prof.samples),
            "gc_alloc_pct": 100 * gc / total if total else 0.0,
            "flat": rows[:limit], "cum": by_cum[:limit]}


def summarize_mem(prof: pprof.Profile, limit: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for st in ("alloc_space", "alloc_objects"):
        costs, total = pprof.top(prof, st)
        out[st] = {"total": total, "top": [
            {"function": c.name, "file": c.file, "line": c.line, "flat": c.flat,
             "flat_pct": 100 * c.flat / total if total else 0.0, "cum": c.cum} for c in costs[:limit]]}
    return out


def gc_pressure(gc_pct: float, bytes_per_s: float, th: dict[str, Any]) -> str:
    """Low / Medium / High from the GC+allocation CPU share and the allocation rate."""
    hi_pct, med_pct = float(th.get("high_gc_pct", 25)), float(th.get("medium_gc_pct", 10))
    hi_rate, med_rate = float(th.get("high_mb_per_s", 1000)) * 1e6, float(th.get("medium_mb_per_s", 200)) * 1e6
    if gc_pct >= hi_pct or bytes_per_s >= hi_rate:
        return "High"
    if gc_pct >= med_pct or bytes_per_s >= med_rate:
        return "Medium"
    return "Low"


def run(params: dict[str, Any], cfg: dict[str, Any], target: Path, out_dir: Path,
        compare_json: Path | None) -> dict[str, Any]:
    pcfg = params.get("profile") or {}
    out_dir = out_dir.resolve()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    regex, why = select_benchmarks(params, compare_json, str(cfg.get("bench", ".")))
    limit = int(pcfg.get("top", 15))
    benchtime = str(pcfg.get("benchtime", "1s"))
    rate = int(pcfg.get("memprofilerate", 1))
    summary: dict[str, Any] = {"bench": regex, "why": why, "benchtime": benchtime, "memprofilerate": rate,
                               "packages": [], "notes": []}
    if not pcfg.get("enabled", True):
        summary["notes"].append("profiling disabled (profile.enabled: false)")
        atomic.write_json(out_dir / "profile.json", summary)
        return summary
    pkgs = [p for p in gotest.list_packages(target, cfg["packages"]) if p.has_tests]
    go_s = 0.0
    for i, pkg in enumerate(pkgs, 1):
        sub = out_dir / f"{i:02d}-{pkg.import_path.rsplit('/', 1)[-1]}"
        sub.mkdir()
        binary = sub / "pkg.test"
        gotest.progress(f"profile: [{i}/{len(pkgs)}] {pkg.import_path} -bench {regex}")
        go_s += gotest.build_test_binary(pkg, target, binary)
        base = ["-test.run=^$", f"-test.bench={regex}", "-test.benchmem", f"-test.benchtime={benchtime}",
                "-test.count=1", f"-test.timeout={cfg.get('timeout', '10m')}"]
        cpu = gotest.run_binary(binary, pkg.dir, base + [f"-test.cpuprofile={sub / 'cpu.prof'}",
                                                         f"-test.trace={sub / 'trace.out'}"])
        go_s += cpu.wall
        if cpu.returncode != 0:
            raise BenchpipeError(gotest.diagnose(cpu.output, pkg.import_path, cpu.returncode) + " (under profiling)")
        if "Benchmark" not in cpu.output:
            shutil.rmtree(sub)
            continue
        mem = gotest.run_binary(binary, pkg.dir, base + [f"-test.memprofile={sub / 'mem.prof'}",
                                                         f"-test.memprofilerate={rate}"])
        go_s += mem.wall
        if mem.returncode != 0:
            raise BenchpipeError(gotest.diagnose(mem.output, pkg.import_path, mem.returncode) + " (under profiling)")
        entry: dict[str, Any] = {"package": pkg.import_path, "dir": sub.name, "maxrss_kb": cpu.maxrss_kb,
                                 "trace": f"{sub.name}/trace.out", "binary": f"{sub.name}/pkg.test"}
        svgs: dict[str, str] = {}
        try:
            cprof = pprof.load(sub / "cpu.prof")
            entry["cpu"] = summarize_cpu(cprof, limit)
            if not entry["cpu"]["total_ns"]:
                summary["notes"].append(f"{pkg.import_path}: CPU profile has no samples (benchmark too short?)")
            else:
                data = callgraph.gprof2dot_json(cprof, cprof.index_of("cpu"), "cpu", "ns")
                svg, note = callgraph.render(data, sub / "cpu.svg", float(pcfg.get("node_threshold", 0.5)),
                                             float(pcfg.get("edge_threshold", 0.1)))
                if svg:
                    svgs["cpu"] = f"{sub.name}/cpu.svg"
                if note:
                    summary["notes"].append(f"{pkg.import_path}: {note}")
        except pprof.ProfileError as e:
            summary["notes"].append(str(e))
        try:
            mprof = pprof.load(sub / "mem.prof")
            entry["mem"] = summarize_mem(mprof, limit)
        except pprof.ProfileError as e:
            summary["notes"].append(str(e))
        cpu_s = (entry.get("cpu") or {}).get("duration_ns", 0) / 1e9 or cpu.wall
        alloc = ((entry.get("mem") or {}).get("alloc_space") or {}).get("total", 0)
        entry["alloc_bytes_per_s"] = alloc / mem.wall if mem.wall else 0.0
        entry["gc_pressure"] = gc_pressure((entry.get("cpu") or {}).get("gc_alloc_pct", 0.0),
                                           entry["alloc_bytes_per_s"], pcfg.get("gc_thresholds") or {})
        entry["cpu_seconds"] = cpu_s
        entry["graphs"] = svgs
        summary["packages"].append(entry)
    summary["go_s"] = round(go_s, 3)
    if not summary["packages"]:
        summary["notes"].append(f"no benchmark matched {regex!r}: nothing profiled")
    atomic.write_json(out_dir / "profile.json", summary)
    for n in summary["notes"]:
        sys.stderr.write(f"profile: {n}\n")
    return summary
