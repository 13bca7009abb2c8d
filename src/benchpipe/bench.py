"""The ``bench`` stage: run the configured benchmarks of a Go module.

For each package with tests matched by the mode's patterns: build the test
binary (``go test -c``), then run it as ``go test -run '^$' -bench <regex>
-benchmem -count N -benchtime T [-cpu L]`` would. The raw output is kept
exactly as Go printed it (valid benchfmt: benchstat reads it), with ``ok``
lines as ``go test`` adds them, plus metadata (Go version, platform, CPU,
GOMAXPROCS, target commit and dirty flag, start time, commands, build and
wall times, peak RSS of each benchmark process).

Failures (build error, panic, failed benchmark, timeout) stop the stage with
one line naming the problem and exit 2; everything Go printed is kept in
``bench.log`` beside the output. No benchmark matched: exit 3.
"""

from __future__ import annotations

import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import atomic, format, gotest, meta
from .errors import BenchpipeError, NothingToCompare


def go_test_flags(cfg: dict[str, Any]) -> list[str]:
    """Test-binary flags for a mode's settings (the ``-test.`` forms of go test's flags)."""
    flags = ["-test.run=^$", f"-test.bench={cfg.get('bench', '.')}", "-test.benchmem",
             f"-test.count={int(cfg.get('count', 1))}", f"-test.benchtime={cfg.get('benchtime', '1s')}",
             f"-test.timeout={cfg.get('timeout', '10m')}"]
    if str(cfg.get("cpu", "") or ""):
        flags.append(f"-test.cpu={cfg['cpu']}")
    return flags


def equivalent_command(cfg: dict[str, Any]) -> list[str]:
    cmd = ["go", "test", "-run", "^$", "-bench", str(cfg.get("bench", ".")), "-benchmem",
           "-count", str(cfg.get("count", 1)), "-benchtime", str(cfg.get("benchtime", "1s")),
           "-timeout", str(cfg.get("timeout", "10m"))]
    if str(cfg.get("cpu", "") or ""):
        cmd += ["-cpu", str(cfg["cpu"])]
    return cmd + list(cfg["packages"])


def _timeout_seconds(s: str) -> float:
    total, found = 0.0, False
    for num, unit in re.findall(r"([\d.]+)(h|m|s|ms)", str(s)):
        found = True
        total += float(num) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[unit]
    return total if found else 600.0


def run(cfg: dict[str, Any], target: Path, out_txt: Path, out_meta: Path) -> dict[str, Any]:
    """Run the benchmarks; write raw output and metadata; return the metadata."""
    started = datetime.now(UTC)
    t_start = time.monotonic()
    env = meta.environment(target)
    log_path = out_txt.with_suffix(".log")
    log_parts: list[str] = []

    def log(text: str) -> None:
        log_parts.append(text)

    def fail(err: BenchpipeError) -> None:
        atomic.write_text(log_path, "".join(log_parts))
        err.message += f" (output kept in {log_path})"
        raise err

    pkgs = [p for p in gotest.list_packages(target, cfg["packages"]) if p.has_tests]
    if not pkgs:
        raise NothingToCompare(f"no package with tests matches {' '.join(cfg['packages'])} in {target}")
    flags = go_test_flags(cfg)
    # Go's -timeout does not always stop a hung benchmark: kill it ourselves a little later.
    soft = _timeout_seconds(cfg.get("timeout", "10m"))
    hard = soft + min(60.0, max(5.0, soft * 0.1))
    out_parts: list[str] = []
    pkg_meta: list[dict[str, Any]] = []
    commands: list[list[str]] = []
    go_time = 0.0
    with tempfile.TemporaryDirectory(prefix="benchpipe-bin-") as tmp:
        for i, pkg in enumerate(pkgs, 1):
            gotest.progress(f"bench: [{i}/{len(pkgs)}] building {pkg.import_path}")
            binary = Path(tmp) / f"pkg{i}.test"
            try:
                build_s = gotest.build_test_binary(pkg, target, binary, log)
            except BenchpipeError as e:
                fail(e)
            commands.append(["go", "test", "-c", "-o", binary.name, pkg.import_path])
            commands.append([binary.name, *flags])
            t_pkg = time.monotonic()

            def announce(name: str, _pkg: str = pkg.import_path, _t: float = t_pkg) -> None:
                gotest.progress(f"bench: {_pkg} {name} (package {time.monotonic() - _t:.1f}s, "
                                f"total {time.monotonic() - t_start:.1f}s)")

            try:
                res = gotest.run_binary(binary, pkg.dir, flags, sink=log, on_bench=announce, hard_timeout=hard)
            except gotest.Hung:
                fail(BenchpipeError(f"{pkg.import_path}: benchmark hit the -timeout ({cfg.get('timeout', '10m')}) "
                                    "and was killed"))
            go_time += build_s + res.wall
            if res.returncode != 0:
                fail(BenchpipeError(gotest.diagnose(res.output, pkg.import_path, res.returncode)))
            text = res.output if res.output.endswith("\n") or not res.output else res.output + "\n"
            out_parts.append(text + f"ok  \t{pkg.import_path}\t{res.wall:.3f}s\n")
            n_results = len(format.read_text(text).results)
            pkg_meta.append({"import_path": pkg.import_path, "build_s": round(build_s, 3),
                             "run_s": round(res.wall, 3), "maxrss_kb": res.maxrss_kb, "results": n_results})
    raw = "".join(out_parts)
    n_total = sum(p["results"] for p in pkg_meta)
    if not n_total:
        atomic.write_text(log_path, "".join(log_parts))
        raise NothingToCompare(f"no benchmark matched -bench {cfg.get('bench', '.')!r} in "
                               f"{' '.join(cfg['packages'])}")
    wall = time.monotonic() - t_start
    info: dict[str, Any] = {
        "mode": cfg["mode"],
        "target": str(target),
        "start_time": started.isoformat(timespec="seconds"),
        "wall_s": round(wall, 3),
        "go_s": round(go_time, 3),
        "command": equivalent_command(cfg),
        "commands": commands,
        "settings": {k: cfg[k] for k in ("packages", "bench", "count", "benchtime", "cpu", "timeout") if k in cfg},
        "packages": pkg_meta,
        "peak_rss_kb": max((p["maxrss_kb"] for p in pkg_meta), default=0),
        "results": n_total,
        **env,
    }
    atomic.write_text(out_txt, raw)
    atomic.write_json(out_meta, info)
    atomic.write_text(log_path, "".join(log_parts))
    return info
