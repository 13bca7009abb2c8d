"""Speed benchmarks of benchpipe itself, printed as ratios against a reference
run side by side on the same machine (``invoke speed``).

``compare``: two generated files of 100,000 result lines each (5,000
benchmarks x 20 samples x 3 units), compared by ``benchpipe compare`` and by
benchstat, each as the command a user runs (process start included); the
best of ``repeat`` runs of each.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .errors import BenchpipeError


def generate(path: Path, benchmarks: int, samples: int, shift: float, seed: int) -> int:
    rng = random.Random(seed)
    lines = ["goos: linux", "goarch: amd64", "pkg: example.com/generated", "cpu: generated"]
    for b in range(benchmarks):
        base = rng.uniform(10, 1e6)
        drift = shift if b % 10 == 0 else 1.0
        for _ in range(samples):
            ns = base * drift * rng.gauss(1, 0.03)
            lines.append(f"BenchmarkGen{b}-2 \t 1000 \t {ns:.1f} ns/op \t {int(base) // 10} B/op \t {b % 50} allocs/op")
    path.write_text("\n".join(lines) + "\nPASS\n")
    return benchmarks * samples


def _best(argv: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        dt = time.perf_counter() - t0
        if p.returncode not in (0, 1):
            raise BenchpipeError(f"{argv[0]} failed: {p.stderr.strip().splitlines()[-1:]}")
        best = min(best, dt)
    return best


def compare_speed(benchstat: str, benchmarks: int = 5000, samples: int = 20, repeat: int = 3) -> dict[str, float]:
    if not shutil.which(benchstat) and not Path(benchstat).exists():
        raise BenchpipeError(f"{benchstat}: not found (go install golang.org/x/perf/cmd/benchstat@latest)")
    with tempfile.TemporaryDirectory(prefix="benchpipe-speed-") as tmp:
        old, new = Path(tmp) / "old.txt", Path(tmp) / "new.txt"
        n = generate(old, benchmarks, samples, 1.0, 1)
        generate(new, benchmarks, samples, 1.2, 2)
        ours = _best([sys.executable, "-m", "benchpipe", "compare", str(old), str(new)], repeat)
        theirs = _best([benchstat, str(old), str(new)], repeat)
    return {"lines_per_file": n, "benchpipe_s": ours, "benchstat_s": theirs, "ratio": ours / theirs}


def main() -> None:
    benchstat = sys.argv[1] if len(sys.argv) > 1 else "benchstat"
    r = compare_speed(benchstat)
    print(f"compare two files of {r['lines_per_file']:,} result lines (x3 units): "
          f"benchpipe {r['benchpipe_s']:.2f}s, benchstat {r['benchstat_s']:.2f}s, "
          f"ratio {r['ratio']:.2f}x (best of 3, process start included)")


if __name__ == "__main__":
    main()
