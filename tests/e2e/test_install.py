"""The runtime contract: ``pip install .`` with no extras gives a ``benchpipe`` that runs the whole
pipeline. The project is installed into a fresh virtual environment (no system site-packages, so
test extras cannot hide a missing dependency) and ``dvc repro`` runs bench → report on the example
with only that environment's executables on PATH (plus Go, git and dot)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import ROOT, make_repo, run


@pytest.mark.slow
def test_plain_pip_install_runs_the_whole_pipeline(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    assert subprocess.run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", "reports", "build", "*.egg-info", "__pycache__",
                                                             ".dvc", ".hypothesis", ".pytest_cache", ".ruff_cache"))
    p = run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(src)],
            timeout=1200)
    assert p.returncode == 0, p.stderr[-3000:]
    repo = make_repo(tmp_path)
    tools = tmp_path / "tools"
    tools.mkdir()
    for t in ("go", "git", "dot"):
        (tools / t).symlink_to(shutil.which(t))
    path = f"{venv / 'bin'}:{tools}:/usr/bin:/bin"
    e = {"PATH": path, "VIRTUAL_ENV": str(venv), "PYTHONPATH": "",
         "BENCHPIPE_OVERRIDES": json.dumps({"modes.quick.benchtime": "20ms", "profile.benchtime": "200ms",
                                                 "modes.quick.profile": "all", "profile.min_samples": 100})}
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(e)
    assert [shutil.which(t, path=path) for t in ("benchpipe", "dvc")] == [str(venv / "bin" / "benchpipe"),
                                                                          str(venv / "bin" / "dvc")]
    r = subprocess.run(["dvc", "repro"], cwd=repo, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    assert "internal error" not in r.stderr and "ModuleNotFoundError" not in r.stderr
    report = (repo / "reports" / "report.md").read_text()
    assert "### Quick Metrics" in report and "BenchmarkEvaluate" in report
    assert "### CPU Profile" in report and list((repo / "reports" / "graphs").glob("*.svg"))
    assert json.loads((repo / "reports" / "metrics.json").read_text())["benchmarks"]
