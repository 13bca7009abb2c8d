"""``benchpipe init [DIR]``: put benchpipe's pipeline into a team's Go repository.

Writes what the pipeline needs there (:mod:`benchpipe.store.project`): ``dvc.yaml``, ``params.yaml``
(``target`` the module, the quick mode's packages those with benchmarks), ``params.run.yaml``, a
three-line ``tasks.py`` (``invoke quick|full|compare|profile|baseline|publish``), ``baselines/``,
``reports/.gitignore``, and the CI workflows (``.github/workflows/benchmarks.yml``,
``benchpipe.gitlab-ci.yml``) that install benchpipe with pip (``--pip``). Runs ``dvc init`` (``--subdir``
below the git root) where there is no DVC repository yet, with the team's default remote (``--remote URL``:
S3, GCS, SSH or a shared directory) or else a local one inside the repository (``.dvcstore/``, said so).
Idempotent: a file that differs is kept unless ``--force``; it prints what it did and the next two commands.
No Go module (or several, without ``--target``), or no git repository: one line, exit 2.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchpipe import __version__
from benchpipe.core.errors import EXIT_OK, BenchpipeError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "init", help="put benchpipe's pipeline into a Go repository (dvc.yaml, params.yaml, tasks.py, CI)"
    )
    p.add_argument("dir", nargs="?", default=".", help="where the pipeline goes (default: here)")
    p.add_argument(
        "--target", help="the Go module to benchmark, when DIR holds several (go.work, a monorepo)"
    )
    p.add_argument(
        "--pip",
        default=f"benchpipe[s3]=={__version__}",
        help="what the CI workflows install with pip (default: this version, pinned); a git URL or a "
        "wheel works too",
    )
    p.add_argument("--ci", default="github,gitlab", help="workflows to write: github, gitlab, both, or none")
    p.add_argument(
        "--remote",
        help="the team's DVC remote for baselines (s3://bucket/path, gs://..., ssh://..., or a "
        "shared directory): the default remote `team`; without it, a local remote inside "
        "this repository (.dvcstore/), which no teammate can pull from",
    )
    p.add_argument("--force", action="store_true", help="replace files that differ from what init writes")
    p.set_defaults(fn=run)


def _module(root: Path, target: str | None) -> Path:
    """The Go module to benchmark: ``--target``, else the only module of ``root``."""
    from benchpipe.go import workspace

    if target:
        module = (root / target).resolve()
        if not (module / "go.mod").is_file():
            raise BenchpipeError(f"init: {target}: not a Go module (no go.mod)")
        return module
    found = workspace.modules(root)
    if not found:
        raise BenchpipeError(
            f"init: no Go module in {root} (no go.mod or go.work here or below): run it in your "
            "module, or pass --target"
        )
    if len(found) > 1:
        names = ", ".join(str(m.relative_to(root)) if m.is_relative_to(root) else str(m) for m in found)
        raise BenchpipeError(
            f"init: {root} holds {len(found)} Go modules ({names}): choose one with --target"
        )
    return found[0]


def _git_root(root: Path) -> Path:
    p = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True, text=True)
    if p.returncode != 0:
        raise BenchpipeError(
            f"init: {root} is not in a git repository (benchpipe compares revisions): git init first"
        )
    return Path(p.stdout.strip()).resolve()


def _dvc(root: Path, git_root: Path, remote: str | None) -> str:
    """``dvc init`` (``--subdir`` below the git root) where there is no DVC repository yet, with the default
    remote: ``remote`` (named ``team``), else ``local``, the directory ``.dvcstore/`` inside the repository
    (DVC keeps the path relative to ``.dvc/``). An existing repository only gets ``remote`` when given."""
    cmds = []
    if not (root / ".dvc").is_dir():
        cmds += [
            ["dvc", "init", "-q", *([] if root == git_root else ["--subdir"])],
            ["dvc", "config", "core.analytics", "false"],
        ]
        if not remote:
            cmds.append(
                ["dvc", "remote", "add", "-q", "-d", "local", ".dvcstore"]
            )  # relative: stored as ../.dvcstore
    if remote:
        if "://" not in remote:  # a shared directory: absolute, as every clone must find it
            remote = str(Path(remote).expanduser().resolve())
        cmds.append(["dvc", "remote", "add", "-q", "-d", "-f", "team", remote])
    if not cmds:
        return "unchanged"
    for cmd in cmds:
        p = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
        if p.returncode != 0:
            raise BenchpipeError(
                f"init: {' '.join(cmd)}: {(p.stderr.strip().splitlines() or ['failed'])[-1]}"
            )
    return "wrote"


def run(args: argparse.Namespace) -> int:
    from benchpipe.go import workspace
    from benchpipe.store import project

    root = Path(args.dir).resolve()
    if not root.is_dir():
        raise BenchpipeError(f"init: {args.dir}: no such directory")
    git_root = _git_root(root)
    module = _module(root, args.target)
    target = (
        "."
        if module == root
        else Path(module).relative_to(root).as_posix()
        if module.is_relative_to(root)
        else str(module)
    )
    packages = workspace.bench_packages(module)
    ci = tuple(c for c in args.ci.replace("both", "github,gitlab").split(",") if c in ("github", "gitlab"))
    done = [(".dvc/", _dvc(root, git_root, args.remote))]
    done += project.write(root, project.files(target, packages, args.pip, ci), args.force)
    done.append((".gitignore", project.ignore_lines(root, ".gitignore", ["/.dvcstore/"])))
    done.append(
        (".dvcignore", project.ignore_lines(root, ".dvcignore", ["/reports/site/", "/reports/*-explain/"]))
    )
    for path, what in done:
        sys.stdout.write(f"  {what:<9} {path}\n")
    kept = [p for p, w in done if w == "kept"]
    if kept:
        sys.stdout.write(
            f"init: kept {len(kept)} file(s) that differ from benchpipe's (--force replaces them)\n"
        )
    found = f"{len(packages)} package(s) with benchmarks" if packages else "no Benchmark function found yet"
    from benchpipe.store import baselines

    shared = baselines.shared_remote(root)
    sys.stdout.write(
        f"init: baselines are pushed to the DVC remote {shared}\n"
        if shared
        else f"init: {baselines.LOCAL_REMOTE_HINT}\n"
    )
    sys.stdout.write(
        f"init: benchpipe's pipeline is in {root} (target {target}, {found}). Next:\n"
        "  invoke quick       # benchmark and write reports/report.md\n"
        "  invoke baseline    # save the run as the baseline `invoke compare` and CI compare with\n"
        "then commit what init wrote (and dvc.lock, baselines/*.dvc after a baseline).\n"
    )
    return EXIT_OK
