"""The files ``benchpipe init`` writes into a team's repository, from the templates in ``benchpipe/project``
(``dvc.yaml.in``: not named ``dvc.yaml``, so DVC never takes the template for a pipeline of this repository).

What a repository needs to run the pipeline there: ``dvc.yaml`` (the stages), ``params.yaml`` (this
project's own, with ``target`` and the quick mode's packages set for the team's module),
``params.run.yaml``, a ``tasks.py`` of three lines (``benchpipe.tasks``), ``baselines/``,
``reports/.gitignore`` (run outputs stay out of git), the DVC plot template, and the CI workflows for
GitHub Actions (the benchmarks workflow, and the trusted ``workflow_run`` workflow that posts the pull
request's comment) and GitLab CI, which install benchpipe with pip (``pip_spec``).

:func:`write` never overwrites a file that differs without ``force``: each file is ``wrote``,
``unchanged`` (already what it would write) or ``kept`` (different; ``--force`` replaces it). Writes
are atomic.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from benchpipe.store import atomic

TASKS_PY = '''"""invoke tasks of benchpipe (`invoke --list`); written by `benchpipe init`."""

from pathlib import Path

from benchpipe.tasks import collection

ns = collection(Path(__file__).parent)
'''

QUICK_PACKAGES_MAX = 12  # more packages with benchmarks than this: quick mode runs ./... (full does anyway)


def template(name: str) -> str:
    """A template shipped in the package (``benchpipe/project/<name>``)."""
    return resources.files("benchpipe").joinpath("project", name).read_text()


def params_yaml(target: str, packages: list[str]) -> str:
    """This project's params.yaml with ``target`` and the quick mode's packages set (comments kept)."""
    text = template("params.yaml")
    pkgs = packages if 0 < len(packages) <= QUICK_PACKAGES_MAX else ["./..."]
    text, n = re.subn(r"(?m)^target: .*$", f"target: {json.dumps(target)}", text, count=1)
    text, m = re.subn(
        r"(?m)^(    packages: )\[[^\]]*\](.*)$",
        lambda mo: mo.group(1) + json.dumps(pkgs) + mo.group(2),
        text,
        count=1,
    )
    assert n == 1 and m == 1, "the params.yaml template lost its target or quick packages line"
    return text


def ci_template(name: str, pip_spec: str) -> str:
    return template(f"ci/{name}").replace("__BENCHPIPE_PIP__", pip_spec)


@dataclass(frozen=True)
class File:
    path: str  # relative to the repository's pipeline directory
    text: str


def files(
    target: str, packages: list[str], pip_spec: str, ci: tuple[str, ...] = ("github", "gitlab")
) -> list[File]:
    """Every file of the pipeline, in the order they are written."""
    out = [
        File("dvc.yaml", template("dvc.yaml.in")),
        File("params.yaml", params_yaml(target, packages)),
        File("params.run.yaml", template("params.run.yaml")),
        File("tasks.py", TASKS_PY),
        File("baselines/.gitkeep", ""),
        File("reports/.gitignore", template("reports.gitignore")),
        File(".dvc/plots/benchpipe_trend.json", template("benchpipe_trend.json")),
    ]
    if "github" in ci:
        out.append(File(".github/workflows/benchmarks.yml", ci_template("github-benchmarks.yml", pip_spec)))
        out.append(
            File(".github/workflows/benchpipe-comment.yml", ci_template("github-comment.yml", pip_spec))
        )
    if "gitlab" in ci:
        out.append(File("benchpipe.gitlab-ci.yml", ci_template("gitlab-ci.yml", pip_spec)))
    return out


def write(root: Path, todo: list[File], force: bool = False) -> list[tuple[str, str]]:
    """Write each file under ``root``: (path, wrote | unchanged | kept) each."""
    out = []
    for f in todo:
        path = root / f.path
        old = path.read_text() if path.is_file() else None
        if old == f.text:
            out.append((f.path, "unchanged"))
        elif old is not None and not force:
            out.append((f.path, "kept"))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_text(path, f.text)
            out.append((f.path, "wrote"))
    return out


def ignore_lines(root: Path, name: str, lines: list[str]) -> str:
    """Append the missing ``lines`` to ``root/name`` (.gitignore, .dvcignore): wrote | unchanged."""
    path = root / name
    have = path.read_text().splitlines() if path.is_file() else []
    missing = [ln for ln in lines if ln not in have]
    if not missing:
        return "unchanged"
    text = "\n".join(have + (["# benchpipe"] if "# benchpipe" not in have else []) + missing) + "\n"
    atomic.write_text(path, text)
    return "wrote"
