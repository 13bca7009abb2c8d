"""dvc.yaml declares what each stage reads: every stage of a real run is traced (strace, openat) and the
files it opened for reading inside the repository are compared with its declared deps and params, both ways
(a read that is not declared lets `dvc repro` skip a stage that should run; a dep that is never read makes it
run for nothing)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from ..conftest import make_repo, run

# Reads a dep cannot declare, each with the reason it is still safe.
ALLOWED = {
    "bench": [
        "examples/",
        ".gitignore",
    ],  # the measured module (fingerprinted into bench.json; always_changed),
    # and git's ignore file, read by `git status` for the dirty flag
    # benchmark sources (health) and the baseline: always_changed; git's ignore file, read when a run-wide
    # shift asks git what a dirty tree changed (which packages the change cannot affect)
    "compare": ["examples/", "baselines/", ".gitignore"],
    "profile": ["examples/", "baselines/"],  # builds the module; baseline profiles, reached via compare.json
}
_OPEN = re.compile(r'^\d+\s+openat\(AT_FDCWD, "([^"]+)", ([A-Z_|]+)[^)]*\)\s+=\s+(\d+)')


def _joined(text: str) -> list[str]:
    """strace's lines with each call that another process interrupted (``<unfinished ...>``, then
    ``<... openat resumed>``: a forked reader's calls interleave with its parent's) joined back into one."""
    pending: dict[str, str] = {}
    out = []
    for line in text.splitlines():
        if m := re.match(r"^(\d+)\s+(.*?)\s*<unfinished \.\.\.>$", line):
            pending[m.group(1)] = m.group(2)
        elif (m := re.match(r"^(\d+)\s+<\.\.\. \w+ resumed>(.*)$", line)) and m.group(1) in pending:
            out.append(f"{m.group(1)} {pending.pop(m.group(1))}{m.group(2)}")
        else:
            out.append(line)
    return out


def _reads(log: Path, repo: Path) -> set[str]:
    """Files opened for reading inside ``repo``; the installed benchpipe package's files count as the repo's
    ``src/benchpipe/`` (the package the stages run is this checkout's, not the copy in the test repo)."""
    import benchpipe

    package = Path(benchpipe.__file__).resolve().parent
    out = set()
    for line in _joined(log.read_text(errors="replace")):
        m = _OPEN.match(line)
        if not m or "O_WRONLY" in m.group(2) or "O_RDWR" in m.group(2) or "O_DIRECTORY" in m.group(2):
            continue
        p = Path(m.group(1))
        p = (repo / p) if not p.is_absolute() else p
        if p.resolve().is_relative_to(package):
            p = repo / "src" / "benchpipe" / p.resolve().relative_to(package)
        try:
            rel = p.resolve().relative_to(repo.resolve()).as_posix()
        except ValueError:
            continue
        if rel.startswith((".dvc/", ".git/")) or rel.endswith((".py", ".pyc")) or "__pycache__" in rel:
            continue
        out.add(rel)
    return out


def _covered(rel: str, declared: list[str]) -> bool:
    return any(rel == d or rel.startswith(d.rstrip("/") + "/") for d in declared)


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is installed by .ci/setup")
def test_interrupted_calls_are_joined() -> None:
    log = (
        '12 openat(AT_FDCWD, "reports/run/bench.txt", O_RDONLY|O_CLOEXEC <unfinished ...>\n'
        '13 read(3, "x", 1) = 1\n'
        "12 <... openat resumed>) = 3\n"
    )
    joined = _joined(log)
    assert joined[1] == '12 openat(AT_FDCWD, "reports/run/bench.txt", O_RDONLY|O_CLOEXEC) = 3', joined
    assert _OPEN.match(joined[1]).group(1) == "reports/run/bench.txt"


def test_every_stage_reads_exactly_what_dvc_yaml_declares(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    fast = {
        "modes.quick.bench": "^BenchmarkEvaluate$",
        "modes.quick.packages": ["./pkg/core"],
        "modes.quick.benchtime": "20ms",
        "profile.benchtime": "100ms",
        "modes.quick.profile": "all",
        "profile.min_samples": 50,
        "modes.quick.count": 2,
    }
    p = run(["invoke", "quick"], cwd=repo, env={"BENCHPIPE_OVERRIDES": json.dumps(fast)})
    assert p.returncode == 0, p.stderr[-2000:]
    # with a baseline, so that compare compares (and profile can diff against its profiles)
    p = run(["invoke", "baseline", "--reuse", "--no-push"], cwd=repo)
    assert p.returncode == 0, p.stderr[-2000:]
    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    problems = []
    for name, st in stages.items():
        log = tmp_path / f"{name}.strace"
        p = run(
            ["strace", "-f", "-qq", "-e", "trace=openat", "-o", str(log), "sh", "-c", st["cmd"]], cwd=repo
        )
        assert p.returncode == 0, (name, p.stderr[-2000:])
        outs = [
            next(iter(o)) if isinstance(o, dict) else o
            for o in st.get("outs", []) + st.get("plots", []) + st.get("metrics", [])
        ]
        params = ["params.yaml"] + [next(iter(x)) for x in st.get("params", []) if isinstance(x, dict)]
        deps = list(st.get("deps", []))
        reads = {r for r in _reads(log, repo) if not _covered(r, outs) or _covered(r, deps)}
        extra = sorted(r for r in reads if not _covered(r, deps + params + ALLOWED.get(name, [])))
        unread = sorted(d for d in deps if not any(_covered(r, [d]) for r in reads))
        if extra:
            problems.append(f"{name} reads undeclared {extra}")
        if unread:
            problems.append(f"{name} declares but never reads {unread}")
    assert not problems, problems
