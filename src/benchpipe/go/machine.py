"""Facts about the machine, the Go toolchain and the target that a run records."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

from benchpipe.core.errors import BenchpipeError
from benchpipe.go import git as gitrev


def require(tool: str, hint: str = "") -> str:
    path = shutil.which(tool)
    if not path:
        raise BenchpipeError(f"{tool}: not found on PATH" + (f" ({hint})" if hint else ""))
    return path


def _run(args: list[str], cwd: Path | None = None) -> str:
    try:
        return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def go_env() -> dict[str, str]:
    require("go", "install Go from https://go.dev/dl")
    out = _run(["go", "env", "GOVERSION", "GOOS", "GOARCH"])
    parts = out.splitlines()
    if len(parts) != 3:
        raise BenchpipeError("go env failed: is the Go toolchain installed correctly?")
    return {"go_version": parts[0], "goos": parts[1], "goarch": parts[2]}


def git_state(target: Path) -> dict[str, Any]:
    commit = _run(["git", "rev-parse", "HEAD"], target)
    if not commit:
        return {"commit": "", "dirty": None, "branch": ""}
    top = Path(_run(["git", "rev-parse", "--show-toplevel"], target))
    dirty = gitrev.is_dirty(top, target.resolve().relative_to(top.resolve()))
    branch = _run(["git", "rev-parse", "--abbrev-ref", "HEAD"], target)
    if branch == "HEAD":  # a detached checkout (CI): the branch the CI system says it built
        branch = (
            os.environ.get("GITHUB_HEAD_REF")
            or os.environ.get("GITHUB_REF_NAME")
            or os.environ.get("CI_COMMIT_BRANCH")
            or os.environ.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")
            or ""
        )
    return {"commit": commit, "dirty": dirty, "branch": branch}


def environment(target: Path) -> dict[str, Any]:
    env: dict[str, Any] = dict(go_env())
    env["cpu"] = cpu_model()
    env["gomaxprocs"] = int(os.environ.get("GOMAXPROCS") or os.cpu_count() or 1)
    env["hostname"] = platform.node()
    env.update(git_state(target))
    return env
