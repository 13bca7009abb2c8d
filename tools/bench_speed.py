"""Bench-stage speed on a multi-package real module: ``benchpipe bench`` against plain ``go test``
with the same flags on the same packages, side by side, warm build cache (``invoke speed``).

Default module: go.uber.org/zap from the corpus (several packages, some without benchmarks).
Each command runs once to warm the build cache, then ``--repeat`` times alternately; the best
wall time of each is kept and the ratio benchpipe / go test is printed (target <= 1.1).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "corpus"))
import fetch  # noqa: E402


def timed(argv: list[str], cwd: Path) -> float:
    t0 = time.monotonic()
    p = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise SystemExit(f"bench_speed: {' '.join(argv[:3])} failed: {p.stderr.strip().splitlines()[-1:]}")
    return time.monotonic() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--module", default="go.uber.org/zap")
    ap.add_argument("--benchtime", default="200x")
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    m = next(x for x in fetch.modules() if x.path == args.module)
    root = fetch.cache_root()
    root.mkdir(parents=True, exist_ok=True)
    target = fetch.fetch(m, root)
    plain = [
        "go",
        "test",
        "-run",
        "^$",
        "-bench",
        ".",
        "-benchmem",
        "-count",
        str(args.count),
        "-benchtime",
        args.benchtime,
        "./...",
    ]
    with tempfile.TemporaryDirectory(prefix="benchpipe-speed-") as tmp:
        params = Path(tmp) / "params.yaml"
        params.write_text(
            yaml.safe_dump(
                {
                    "target": str(target),
                    "mode": "quick",
                    "modes": {
                        "quick": {
                            "packages": ["./..."],
                            "bench": ".",
                            "count": args.count,
                            "benchtime": args.benchtime,
                            "cpu": "",
                            "timeout": "10m",
                        }
                    },
                }
            )
        )
        ours = [
            "benchpipe",
            "bench",
            "--params",
            str(params),
            "--out",
            f"{tmp}/bench.txt",
            "--meta",
            f"{tmp}/bench.json",
        ]
        timed(plain, target)
        timed(ours, Path(tmp))
        t_plain, t_ours = float("inf"), float("inf")
        for _ in range(args.repeat):
            t_plain = min(t_plain, timed(plain, target))
            t_ours = min(t_ours, timed(ours, Path(tmp)))
    print(
        f"bench stage on {m.path}@{m.version} (./..., -count {args.count} -benchtime {args.benchtime}, warm "
        "cache): "
        f"benchpipe bench {t_ours:.2f}s, go test {t_plain:.2f}s, ratio {t_ours / t_plain:.2f}x "
        f"(target <= 1.1; best of {args.repeat})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
