"""Shared fixtures: the real Go toolchain, benchstat, the example module, temp DVC repos."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("DVC_NO_ANALYTICS", "1")

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
EXAMPLE = ROOT / "examples" / "policyengine"
BENCHSTAT_VERSION = "v0.0.0-20260908200009-22c9c6c9d4da"


def run(
    args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(args, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)


def exit_for(verdict: str) -> int:
    """The exit code a verdict implies: 1 for FAIL, 0 for PASS, WARN or NONE. A test whose run's verdict is
    the machine's noise (the same code on both sides) checks that the exit agrees with the verdict it
    wrote."""
    assert verdict in ("PASS", "WARN", "FAIL", "NONE"), verdict
    return 1 if verdict == "FAIL" else 0


def printed_verdict(text: str) -> str:
    """The verdict of benchpipe's ``verdict: X`` line in ``text`` (exactly one such line)."""
    import re

    found = re.findall(r"^(?:## benchpipe: |verdict: )(PASS|WARN|FAIL|NONE)\b", text, re.M)
    assert len(found) == 1, text[-3000:]
    return found[0]


def ctrl_c_able() -> None:
    """``preexec_fn`` of a process a test interrupts with SIGINT: Ctrl-C reaches it as a terminal's does, also
    when the test run itself was started with SIGINT ignored (a background job of a non-interactive shell,
    whose children inherit the ignoring)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def quick_params(tmp: Path, target: Path, **mode: object) -> Path:
    """This project's params.yaml aimed at ``target``, with quick mode's settings updated by ``mode``."""
    import yaml

    p = yaml.safe_load((ROOT / "params.yaml").read_text())
    p["target"] = str(target)
    p["modes"]["quick"].update(mode)
    out = tmp / "params.yaml"
    out.write_text(yaml.safe_dump(p))
    return out


def bench_stage(work: Path, params: Path, name: str) -> None:
    """The bench stage into ``work/<name>.txt`` and ``<name>.json``."""
    p = run(
        ["benchpipe", "bench", "--params", str(params), "--out", f"{name}.txt", "--meta", f"{name}.json"],
        cwd=work,
    )
    assert p.returncode == 0, p.stderr


@pytest.fixture(scope="session")
def go() -> str:
    path = shutil.which("go")
    assert path, "the tests need the Go toolchain on PATH"
    return path


@pytest.fixture(scope="session")
def benchstat(go: str) -> str:
    """benchstat at the pinned version, installed with `go install` when missing."""
    gobin = ROOT / "build" / "bin"
    exe = gobin / "benchstat"
    if not exe.exists():
        p = run(
            [go, "install", f"golang.org/x/perf/cmd/benchstat@{BENCHSTAT_VERSION}"], env={"GOBIN": str(gobin)}
        )
        assert p.returncode == 0, p.stderr
    return str(exe)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A private copy of the bundled example module."""
    dst = tmp_path / "policyengine"
    shutil.copytree(EXAMPLE, dst)
    return dst


def make_repo(tmp_path: Path, name: str = "repo") -> Path:
    """A temporary git repository holding this project (sources, pipeline, example)."""
    repo = tmp_path / name
    repo.mkdir()
    for item in [
        "dvc.yaml",
        "params.yaml",
        "params.run.yaml",
        "pyproject.toml",
        "tasks.py",
        ".gitignore",
        ".dvcignore",
    ]:
        shutil.copy(ROOT / item, repo / item)
    shutil.copytree(ROOT / "examples", repo / "examples")
    shutil.copytree(ROOT / "src", repo / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    (repo / "reports").mkdir()
    shutil.copy(ROOT / "reports" / ".gitignore", repo / "reports" / ".gitignore")
    (repo / "baselines").mkdir()
    (repo / "baselines" / ".gitkeep").touch()
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    for cmd in (
        ["git", "init", "-q", "-b", "main"],
        ["dvc", "init", "-q"],
        ["cp", "-r", str(ROOT / ".dvc" / "plots"), str(repo / ".dvc" / "plots")],
        ["dvc", "remote", "add", "-q", "-d", "local", str(tmp_path / f"{name}-remote")],
        ["git", "add", "-A"],
        ["git", "commit", "-qm", "init"],
    ):
        p = run(cmd, cwd=repo, env=env)
        assert p.returncode == 0, (cmd, p.stderr)
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything under tests/e2e runs real Go, DVC, git or subprocesses: marked ``go``. tests/unit is pure
    (no subprocess, no Go; the whole folder in well under 30 s): ``invoke test --unit``."""
    e2e = Path(__file__).resolve().parent / "e2e"
    for item in items:
        if e2e in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.go)


CREDS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch):
    """An S3 server on loopback (moto's), with bucket ``benchpipe``; the AWS environment points at it."""
    import socket

    import boto3
    from moto.server import ThreadedMotoServer

    for k, v in CREDS.items():
        monkeypatch.setenv(k, v)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    url = f"http://127.0.0.1:{port}"
    import urllib.request

    # moto keeps its state per process, across servers: every test starts from an empty store
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=30).read()
    boto3.client("s3", endpoint_url=url).create_bucket(Bucket="benchpipe")
    yield url
    server.stop()


def build_wheel(tmp: Path) -> Path:
    """A wheel of this checkout (built from a copy: the checkout is not written to)."""
    src = tmp / "src"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".git",
            "reports",
            "build",
            "*.egg-info",
            "__pycache__",
            ".dvc",
            ".hypothesis",
            ".pytest_cache",
            ".ruff_cache",
        ),
    )
    p = run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--disable-pip-version-check",
            "-w",
            str(tmp / "dist"),
            str(src),
        ],
        timeout=600,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    return next((tmp / "dist").glob("benchpipe-*.whl"))


def venv_with(tmp: Path, spec: str) -> dict[str, str]:
    """A fresh venv (no system site-packages) with ``spec`` installed; the environment that puts it, and Go,
    git and dot (nothing else) on PATH."""
    venv = tmp / "venv"
    assert subprocess.run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    p = run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", spec],
        timeout=1200,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    tools = tmp / "tools"
    tools.mkdir()
    for t in ("go", "git", "dot", "bash"):
        (tools / t).symlink_to(shutil.which(t))
    path = f"{venv / 'bin'}:{tools}:/usr/bin:/bin"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update({"PATH": path, "VIRTUAL_ENV": str(venv), "PYTHONPATH": ""})
    assert [shutil.which(t, path=path) for t in ("benchpipe", "dvc", "invoke")] == [
        str(venv / "bin" / t) for t in ("benchpipe", "dvc", "invoke")
    ]
    return env


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def team_env(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What a team's CI has: the wheel installed as its workflows install benchpipe (with the object-store
    extra), in a venv of its own; ``BENCHPIPE_PIP`` is that spec."""
    spec = f"{wheel}[s3]"
    env = venv_with(tmp_path_factory.mktemp("team-venv"), spec)
    env["BENCHPIPE_PIP"] = spec
    return env
