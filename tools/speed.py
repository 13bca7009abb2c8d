"""Speed benchmarks of benchpipe itself, printed as ratios against a reference
run side by side on the same machine (``invoke speed``).

``compare``: two generated files of 100,000 result lines each (5,000
benchmarks x 20 samples x 3 units), compared by ``benchpipe compare`` and by
benchstat, each as the command a user runs (process start included); the
best of ``repeat`` runs of each, run alternately.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchpipe.core.artifacts import BenchMeta
from benchpipe.core.errors import BenchpipeError


def generate(path: Path, benchmarks: int, samples: int, shift: float, seed: int) -> int:
    rng = random.Random(seed)
    with open(path, "w") as f:  # streamed, so the generating process stays small
        f.write("goos: linux\ngoarch: amd64\npkg: example.com/generated\ncpu: generated\n")
        for b in range(benchmarks):
            base = rng.uniform(10, 1e6)
            drift = shift if b % 10 == 0 else 1.0
            for _ in range(samples):
                ns = base * drift * rng.gauss(1, 0.03)
                f.write(
                    f"BenchmarkGen{b}-2 \t 1000 \t {ns:.1f} ns/op \t {int(base) // 10} B/op \t "
                    f"{b % 50} allocs/op\n"
                )
        f.write("PASS\n")
    return benchmarks * samples


def _once(argv: list[str]) -> tuple[float, float]:
    """Wall time of one run, and the peak RSS (MB) of its process tree."""
    import os

    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    dt = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise BenchpipeError(f"{argv[0]} failed on the generated files")
    return dt, usage.ru_maxrss / 1024


def _best_alternating(
    a: list[str], b: list[str], repeat: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Best (wall, peak RSS) of ``repeat`` runs of each command, run alternately so both see the same
    noise."""
    best_a, best_b = (float("inf"), 0.0), (float("inf"), 0.0)
    for _ in range(repeat):
        best_a = min(best_a, _once(a))
        best_b = min(best_b, _once(b))
    return best_a, best_b


def compare_speed(
    benchstat: str, benchmarks: int = 5000, samples: int = 20, repeat: int = 5
) -> dict[str, float]:
    import compileall

    import benchpipe

    if not shutil.which(benchstat) and not Path(benchstat).exists():
        raise BenchpipeError(f"{benchstat}: not found (go install golang.org/x/perf/cmd/benchstat@latest)")
    # measured as installed: from bytecode (an editable install under PYTHONDONTWRITEBYTECODE would compile
    # every module at every start)
    compileall.compile_dir(Path(benchpipe.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory(prefix="benchpipe-speed-") as tmp:
        old, new = Path(tmp) / "old.txt", Path(tmp) / "new.txt"
        n = generate(old, benchmarks, samples, 1.0, 1)
        generate(new, benchmarks, samples, 1.2, 2)
        (ours, ours_mb), (theirs, theirs_mb) = _best_alternating(
            [sys.executable, "-m", "benchpipe", "compare", str(old), str(new)],
            [benchstat, str(old), str(new)],
            repeat,
        )
    return {
        "lines_per_file": n,
        "benchpipe_s": ours,
        "benchstat_s": theirs,
        "ratio": ours / theirs,
        "benchpipe_mb": ours_mb,
        "benchstat_mb": theirs_mb,
    }


def history_speed(benchmarks: int = 500, samples: int = 10, runs: int = 10_000) -> dict[str, float]:
    """Store one run (benchmarks x samples x 3 units) and query one benchmark's trend over ``runs`` runs."""
    import duckdb

    from benchpipe.core import benchfmt
    from benchpipe.store import history

    with tempfile.TemporaryDirectory(prefix="benchpipe-hist-") as tmp:
        hist = Path(tmp) / "history"
        text = Path(tmp) / "run.txt"
        generate(text, benchmarks, samples, 1.0, 3)
        parsed = benchfmt.read_files([text])
        store = []
        for i in range(5):
            t0 = time.perf_counter()
            history.append(hist, parsed, BenchMeta(commit=f"{i:040x}", mode="speed"))
            store.append(time.perf_counter() - t0)
        # 10,000 runs of history, compacted (as `benchpipe history compact` leaves it).
        for f in (hist / "summary").glob("*.parquet"):
            f.unlink()
        big = hist / "summary" / "compact-generated.parquet"
        con = duckdb.connect()
        t0 = time.perf_counter()
        con.execute(f"""COPY (SELECT printf('run%05d', r) AS run_id,
                    TIMESTAMP '2020-01-01' + INTERVAL (r) HOUR AS time, printf('%040x', r) AS commit,
                    'main' AS branch, 'gen' AS machine, 'quick' AS mode, 'example.com/generated' AS package,
                    printf('BenchmarkGen%d-2', b) AS benchmark, u.unit AS unit,
                    1000.0 + b + random() AS center, 990.0 + b AS lo, 1010.0 + b AS hi, 10 AS n
                    FROM range({runs}) t(r), range({benchmarks}) s(b),
                         (VALUES ('ns/op'), ('B/op'), ('allocs/op')) u(unit)
                    ORDER BY benchmark, unit, time) TO '{big}' (FORMAT parquet, ROW_GROUP_SIZE 100000)""")
        gen = time.perf_counter() - t0
        con.close()
        query = []
        for _ in range(5):
            t0 = time.perf_counter()
            trend = history.series(hist, "BenchmarkGen123-2", "ns/op")
            query.append(time.perf_counter() - t0)
        assert len(trend["center"]) == runs
    return {"store_s": min(store), "query_s": min(query), "generate_s": gen, "rows": runs * benchmarks * 3}


def team_speed(runs: int = 10_000, benchmarks: int = 50) -> dict[str, dict[str, float]]:
    """A team's shared history: ``runs`` runs x ``benchmarks`` benchmarks (synthetic, compacted into one
    object as `benchpipe history compact` leaves it), on a local store and on an S3 server on loopback
    (moto's): append one run, one benchmark's trend, and the report's history section (trend charts of
    every benchmark over the last 30 runs, stability over the last 10, the run count)."""
    import os
    import socket

    import duckdb

    from benchpipe.core import benchfmt
    from benchpipe.store import history, objstore

    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    env = {
        "AWS_ACCESS_KEY_ID": "speed",
        "AWS_SECRET_ACCESS_KEY": "speed",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
    }
    os.environ.update(env)
    server = subprocess.Popen(
        ["moto_server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    out: dict[str, dict[str, float]] = {}
    try:
        time.sleep(2)
        import boto3

        boto3.client("s3").create_bucket(Bucket="speed")
        with tempfile.TemporaryDirectory(prefix="benchpipe-team-") as tmp:
            big = Path(tmp) / "compact-generated.parquet"
            duckdb.connect().execute(f"""COPY (SELECT printf('run%05d', r) AS run_id,
                TIMESTAMP '2020-01-01' + INTERVAL (r) MINUTE AS time, printf('%040x', r) AS commit,
                'main' AS branch, 'gen' AS machine, 'quick' AS mode, 'example.com/generated' AS module,
                'example.com/generated' AS package,
                printf('BenchmarkGen%d-2', b) AS benchmark, u.unit AS unit, 1000.0 + b + random() AS center,
                990.0 + b AS lo, 1010.0 + b AS hi, 10 AS n, 0.5 AS seconds
                FROM range({runs}) t(r), range({benchmarks}) s(b),
                    (VALUES ('ns/op'), ('B/op'), ('allocs/op')) u(unit)
                ORDER BY benchmark, unit, time) TO '{big}' (FORMAT parquet, ROW_GROUP_SIZE 100000)""")
            text = Path(tmp) / "run.txt"
            generate(text, benchmarks, 10, 1.0, 3)
            parsed = benchfmt.read_files([text])
            names = [f"BenchmarkGen{b}-2" for b in range(benchmarks)]
            for kind, url in (("local", str(Path(tmp) / "hist")), ("s3", "s3://speed/team/history")):
                store = objstore.open_store(url)
                store.put_file(big, "summary", big.name)
                append, trend, section = [], [], []
                for i in range(3):
                    t0 = time.perf_counter()
                    history.append(store, parsed, BenchMeta(commit=f"{i:040x}", branch="main", mode="speed"))
                    append.append(time.perf_counter() - t0)
                history.compact(store)
                for _ in range(3):
                    t0 = time.perf_counter()
                    s = history.series(store, "BenchmarkGen17-2", "ns/op")
                    trend.append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    history.count_runs(store)
                    history.series_many(store, names[:8], "ns/op", last=30)
                    history.series_many(store, names, "ns/op", last=10)
                    section.append(time.perf_counter() - t0)
                assert len(s["center"]) >= runs
                out[kind] = {"append_s": min(append), "trend_s": min(trend), "section_s": min(section)}
    finally:
        server.terminate()
        server.wait()
        for k in env:
            os.environ.pop(k, None)
    return out


def site_speed(benchmarks: int = 1000, runs: int = 500) -> dict[str, float]:
    """The published dashboard of a synthetic history (``benchmarks`` x ``runs``, ns/op; 2% of the benchmarks
    shift by 10% at some run): publish time, the index's size, and in headless Chromium the time until the
    index and one benchmark's page are interactive (the page's script has run: ``data-ready``)."""
    import shutil as sh

    import duckdb

    from benchpipe.core.settings import PublishSection
    from benchpipe.stages import publish
    from benchpipe.store import objstore

    with tempfile.TemporaryDirectory(prefix="benchpipe-site-") as tmp:
        store = objstore.open_store(str(Path(tmp) / "hist"))
        (Path(tmp) / "hist" / "summary").mkdir(parents=True)
        duckdb.connect().execute(f"""COPY (SELECT printf('run%05d', r) AS run_id,
            TIMESTAMP '2020-01-01' + INTERVAL (r) HOUR AS time, printf('%040x', r) AS commit,
            'main' AS branch,
            'gen' AS machine, 'quick' AS mode, 'example.com/gen' AS module,
            printf('example.com/gen/p%d', b % 20) AS package, printf('BenchmarkGen%d-2', b) AS benchmark,
            'ns/op' AS unit,
            (1000.0 + b) * (1 + 0.01 * (random() - 0.5))
                * (CASE WHEN b % 50 = 0 AND r >= 300 THEN 1.1 ELSE 1 END)
              AS center, 990.0 + b AS lo, 1010.0 + b AS hi, 10 AS n
            FROM range({runs}) t(r), range({benchmarks}) s(b) ORDER BY benchmark, unit, time)
            TO '{Path(tmp) / "hist" / "summary" / "compact-gen.parquet"}' (FORMAT parquet)""")
        out = Path(tmp) / "site"
        t0 = time.perf_counter()
        facts = publish.run(store, out, PublishSection())
        pub = time.perf_counter() - t0
        page = next((out / "b").iterdir())
        interactive, bench_page = _browser_times((out / "index.html").as_uri(), page.as_uri())
        sh.rmtree(out, ignore_errors=True)
    return {
        "publish_s": pub,
        "index_mb": facts["index_bytes"] / 1e6,
        "series": facts["series"],
        "index_interactive_s": interactive,
        "page_s": bench_page,
    }


def _browser_times(index: str, page: str) -> tuple[float, float]:
    """Best of 3: navigation start to the page's script having run (``data-ready``), in headless Chromium."""
    from playwright.sync_api import sync_playwright

    times: dict[str, float] = {}
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox"],
        )
        for url in (index, page):
            best = float("inf")
            for _ in range(3):
                p = b.new_page()
                p.goto(url)
                p.wait_for_function("document.documentElement.dataset.ready === '1'")
                best = min(best, p.evaluate("performance.now()") / 1000)
                p.close()
            times[url] = best
        b.close()
    return times[index], times[page]


def scale(lines: int = 1_000_000) -> dict[str, float]:
    """Parse a 1,000,000-line benchmark output with `benchpipe parse`; peak RSS of that process."""
    import os

    with tempfile.TemporaryDirectory(prefix="benchpipe-scale-") as tmp:
        src = Path(tmp) / "big.txt"
        generate(src, lines // 200, 200, 1.0, 4)
        size = src.stat().st_size
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchpipe", "parse", str(src), "--out", str(Path(tmp) / "s.parquet")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status) != 0:
            raise BenchpipeError("benchpipe parse failed on the generated file")
        probe = subprocess.Popen(
            [sys.executable, "-c", "import benchpipe.core.benchfmt, benchpipe.store.samples"]
        )
        _, _, base = os.wait4(probe.pid, 0)
    return {
        "lines": lines,
        "mb": size / 1e6,
        "rss_mb": usage.ru_maxrss / 1024,
        "import_rss_mb": base.ru_maxrss / 1024,
        "seconds": wall,
    }


def quick_speed(root: Path) -> dict[str, float]:
    """``invoke quick`` on the example (in a throw-away clone, against a baseline) against the seed's bare
    quick command, ``go test -bench=. -benchmem -count=3`` on the same packages, run alternately; best of
    2."""
    import json
    import re

    import yaml

    prm = yaml.safe_load((root / "params.yaml").read_text())
    pkgs = prm["modes"]["quick"]["packages"]
    with tempfile.TemporaryDirectory(prefix="benchpipe-quick-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(root), str(clone)], check=True)
        # quick is measured as it runs day to day: against a baseline (saved from a first, warm-up run)
        for argv in (["invoke", "quick"], ["invoke", "baseline", "--reuse", "--no-push"]):
            if subprocess.run(argv, cwd=clone, capture_output=True).returncode not in (0, 1):
                raise BenchpipeError(f"{' '.join(argv)} failed in {clone}")
        bare = ["go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "3", *pkgs]
        t_bare, t_quick, fixed = float("inf"), float("inf"), float("inf")
        for _ in range(2):
            t0 = time.monotonic()
            subprocess.run(bare, cwd=clone / "examples" / "policyengine", check=True, capture_output=True)
            t_bare = min(t_bare, time.monotonic() - t0)
            t0 = time.monotonic()
            p = subprocess.run(
                ["invoke", "quick"],
                cwd=clone,
                capture_output=True,
                text=True,
                env={**__import__("os").environ, "BENCHPIPE_OVERRIDES": json.dumps({})},
            )
            wall = time.monotonic() - t0
            if p.returncode not in (0, 1):  # 1: sequential drift called a regression; the timing still counts
                raise BenchpipeError(f"invoke quick failed: {p.stderr.strip().splitlines()[-1:]}")
            t_quick = min(t_quick, wall)
            m = re.search(r"everything else \(.*\) (-?[\d.]+)s", p.stdout)
            if m:
                fixed = min(fixed, float(m.group(1)))
    return {"bare_s": t_bare, "quick_s": t_quick, "ratio": t_quick / t_bare, "fixed_s": fixed}


def paired_speed(
    module: Path, packages: list[str], rounds: int = 6, benchtime: str = "100ms", design: bool = False
) -> dict[str, float]:
    """A/A paired compare (``rounds`` rounds, base HEAD vs the working tree) against two sequential
    ``go test -count <rounds>`` runs at the same benchtime: the same number of samples per side. Builds are
    warmed first (go's build cache, benchpipe's build cache), so both measure running benchmarks. With
    ``design``, the compare runs as a user's does (early stopping, ``rounds`` the maximum, confirmation):
    what the stricter "unchanged" costs against the samples of the fixed design, taken sequentially."""
    seq = [
        "go",
        "test",
        "-run",
        "^$",
        "-bench",
        ".",
        "-benchmem",
        "-count",
        str(rounds),
        "-benchtime",
        benchtime,
        *packages,
    ]
    with tempfile.TemporaryDirectory(prefix="benchpipe-paired-speed-") as tmp:
        pair = [
            sys.executable,
            "-m",
            "benchpipe",
            "compare",
            "--target",
            str(module),
            "--base",
            "HEAD",
            "--rounds",
            str(rounds),
            "--benchtime",
            benchtime,
            *([] if design else ["--no-confirm"]),
            "--cache-dir",
            tmp,
            "--format",
            "json",
            "--packages",
            *packages,
        ]
        subprocess.run(
            ["go", "test", "-run", "^$", "-bench", "^$", *packages], cwd=module, capture_output=True
        )
        t0 = time.monotonic()
        for _ in range(2):
            if subprocess.run(seq, cwd=module, capture_output=True).returncode != 0:
                raise BenchpipeError(f"go test failed in {module}")
        t_seq = time.monotonic() - t0
        t0 = time.monotonic()
        p = subprocess.run(pair, cwd=module, capture_output=True, text=True)
        t_pair = time.monotonic() - t0
        if p.returncode not in (0, 1):
            raise BenchpipeError(f"paired compare failed: {p.stderr.strip().splitlines()[-1:]}")
        facts = json.loads(p.stdout)["paired"]
    return {
        "sequential_s": t_seq,
        "paired_s": t_pair,
        "ratio": t_pair / t_seq,
        "runs": facts["runs"],
        "max_runs": facts["design"]["max_runs"] if facts.get("design") else facts["runs"],
    }


def help_speed(repeat: int = 5) -> float:
    """Best wall time of ``benchpipe --help`` (the console script of this environment, from bytecode)."""
    import compileall
    import sysconfig

    import benchpipe

    compileall.compile_dir(Path(benchpipe.__file__).parent, quiet=1)
    exe = Path(sysconfig.get_path("scripts")) / "benchpipe"
    argv = [str(exe) if exe.exists() else "benchpipe", "--help"]
    return min(_once(argv)[0] for _ in range(repeat))


def main() -> None:
    what = sys.argv[1] if len(sys.argv) > 1 else "compare"
    if what == "site":
        r = site_speed()
        print(
            f"published site of {r['series']:,} benchmarks x 500 runs: publish {r['publish_s']:.1f}s "
            "(target < 10 s), "
            f"index {r['index_mb']:.2f} MB (target < 2 MB), index interactive in headless Chromium "
            f"{r['index_interactive_s']:.2f}s (target < 1 s), a benchmark's page {r['page_s']:.2f}s (target "
            "< 0.5 s)"
        )
        return
    if what == "team":
        r = team_speed()
        for kind, v in r.items():
            print(
                f"history store ({kind}, 10,000 runs x 50 benchmarks, compacted): append one run "
                f"{v['append_s']:.2f}s "
                f"(target < 0.5 s), one benchmark's trend {v['trend_s']:.2f}s, the report's history section "
                f"{v['section_s']:.2f}s (targets < 1 s local, < 5 s object store)"
            )
        return
    if what == "help":
        print(f"benchpipe --help: {help_speed():.3f}s (target <= 0.15 s; best of 5)")
        return
    if what == "paired":
        root = Path(__file__).resolve().parents[1]
        cases = [
            ("example", root / "examples" / "policyengine", ["./pkg/core/...", "./pkg/policydomain/..."])
        ]
        uuid = Path.home() / ".cache" / "benchpipe" / "corpus" / "github.com_google_uuid@v1.6.0"
        if (uuid / ".git").exists():  # fetched by tests/corpus/fetch.py
            cases.append(("github.com/google/uuid", uuid, ["./..."]))
        for label, module, pkgs in cases:
            r = paired_speed(module, pkgs)
            print(
                f"paired A/A on {label} (6 rounds, 100ms): {r['paired_s']:.1f}s vs two sequential "
                f"`go test -count 6` runs {r['sequential_s']:.1f}s: ratio {r['ratio']:.2f}x (target <= 1.1)"
            )
            r = paired_speed(module, pkgs, rounds=16, design=True)
            print(
                f"paired A/A on {label} as a user runs it (early stopping, at most 16 rounds, confirmation): "
                f"{r['paired_s']:.1f}s, {r['runs']}/{r['max_runs']} runs, vs two sequential "
                f"`go test -count 16` runs {r['sequential_s']:.1f}s: ratio {r['ratio']:.2f}x (target <= 0.5)"
            )
        return
    if what == "quick":
        q = quick_speed(Path(__file__).resolve().parents[1])
        print(
            f"invoke quick on the example: {q['quick_s']:.1f}s wall vs the seed's bare `go test -bench=. "
            "-benchmem "
            f"-count=3` {q['bare_s']:.1f}s: ratio {q['ratio']:.2f}x (target <= 1.15); fixed cost besides go "
            "test "
            f"(DVC, parsing, statistics, report) {q['fixed_s']:.1f}s (target <= 2 s); best of 2"
        )
        return
    if what == "scale":
        small, big = scale(100_000), scale(1_000_000)
        print(
            f"scale: benchpipe parse of {big['lines']:,} result lines ({big['mb']:.0f} MB): "
            f"{big['seconds']:.1f}s, "
            f"peak RSS {big['rss_mb']:.0f} MB; of {small['lines']:,} lines: peak RSS {small['rss_mb']:.0f} "
            "MB "
            f"(10x the input, {big['rss_mb'] / small['rss_mb']:.2f}x the memory; imports alone "
            f"{big['import_rss_mb']:.0f} MB)"
        )
        return
    if what == "history":
        h = history_speed()
        print(
            f"history: store one run (500 benchmarks x 10 samples x 3 units): {h['store_s'] * 1000:.0f} ms "
            f"(target 100 ms, ratio {h['store_s'] / 0.1:.2f}); one-benchmark trend query over 10,000 runs "
            f"({h['rows']:,} summary rows): {h['query_s'] * 1000:.0f} ms (target 100 ms, ratio "
            f"{h['query_s'] / 0.1:.2f}); best of 5"
        )
        return
    benchstat = sys.argv[2] if len(sys.argv) > 2 else "benchstat"
    r = compare_speed(benchstat)
    print(
        f"compare two files of {r['lines_per_file']:,} result lines (x3 units): "
        f"benchpipe {r['benchpipe_s']:.2f}s, benchstat {r['benchstat_s']:.2f}s, "
        f"ratio {r['ratio']:.2f}x (target <= 1.0; best of 5 alternating runs, process start included); peak "
        "RSS benchpipe "
        f"{r['benchpipe_mb']:.0f} MB, benchstat {r['benchstat_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
