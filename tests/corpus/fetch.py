"""Fetch the corpus of real Go modules (``modules.txt``) at their pinned versions.

Each module is downloaded through the Go module proxy (``go mod download -json
MODULE@VERSION``), copied out of the read-only module cache into
``$BENCHPIPE_CORPUS`` (default ``~/.cache/benchpipe/corpus``) as
``<module path with / as _>@<version>``, its dependencies downloaded, and
committed to a fresh git repository so paired runs can check out revisions.
A module already fetched is reused. Prints one ``path<TAB>directory`` line per
module (``--ci`` only the modules marked for CI).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
GIT_ENV = {
    "GIT_AUTHOR_NAME": "corpus",
    "GIT_AUTHOR_EMAIL": "corpus@localhost",
    "GIT_COMMITTER_NAME": "corpus",
    "GIT_COMMITTER_EMAIL": "corpus@localhost",
}


@dataclass(frozen=True)
class Module:
    path: str
    version: str
    benchtime: str
    ci: bool
    packages: tuple[str, ...] = ()  # package patterns; empty: the whole module

    @property
    def dirname(self) -> str:
        return f"{self.path.replace('/', '_')}@{self.version}"


def modules(ci_only: bool = False) -> list[Module]:
    out = []
    for line in (HERE / "modules.txt").read_text().splitlines():
        f = line.split("#", 1)[0].split()
        if len(f) in (4, 5):
            m = Module(f[0], f[1], f[2], f[3] == "yes", tuple(f[4].split(",")) if len(f) == 5 else ())
            if m.ci or not ci_only:
                out.append(m)
    return out


def cache_root() -> Path:
    return Path(os.environ.get("BENCHPIPE_CORPUS") or Path.home() / ".cache" / "benchpipe" / "corpus")


def _run(args: list[str], cwd: Path | None = None) -> str:
    p = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env={**os.environ, **GIT_ENV})
    if p.returncode != 0:
        raise SystemExit(f"corpus: {' '.join(args)} failed: {(p.stderr.strip().splitlines() or ['?'])[-1]}")
    return p.stdout


def fetch(m: Module, root: Path) -> Path:
    """The module's working copy (a git repository), fetched on first use."""
    dst = root / m.dirname
    if (dst / ".git").is_dir():
        return dst
    info = json.loads(_run(["go", "mod", "download", "-json", f"{m.path}@{m.version}"]))
    if not info.get("Dir"):
        raise SystemExit(f"corpus: {m.path}@{m.version}: {info.get('Error', 'not downloaded')}")
    tmp = root / (m.dirname + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(info["Dir"], tmp)
    for d, _, files in os.walk(tmp):  # the module cache is read-only
        os.chmod(d, os.stat(d).st_mode | stat.S_IWUSR)
        for f in files:
            os.chmod(Path(d) / f, os.stat(Path(d) / f).st_mode | stat.S_IWUSR)
    _run(["go", "mod", "download"], tmp)
    _run(["git", "init", "-q", "-b", "main"], tmp)
    _run(["git", "add", "-A"], tmp)
    _run(["git", "commit", "-qm", f"{m.path} {m.version}"], tmp)
    os.replace(tmp, dst)
    return dst


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ci", action="store_true", help="only the modules marked for CI")
    args = ap.parse_args()
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    for m in modules(args.ci):
        sys.stdout.write(f"{m.path}\t{fetch(m, root)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
