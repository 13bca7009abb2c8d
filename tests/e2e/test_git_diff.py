"""``git diff -U0`` read once for both its readers, on a real repository: the explanation's changed lines
(head's side, a deletion as the lines around it) and impact selection's two sides per file."""

from __future__ import annotations

import subprocess
from pathlib import Path

from benchpipe.go import git as gitrev

ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
}


def _git(repo: Path, *args: str) -> str:
    import os

    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True, env={**os.environ, **ENV}
    ).stdout


def _repo(tmp_path: Path) -> tuple[Path, str, str]:
    repo = tmp_path / "r"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "a.go").write_text("".join(f"line {i}\n" for i in range(1, 11)))
    (repo / "pkg" / "gone.go").write_text("x\ny\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    base = _git(repo, "rev-parse", "HEAD").strip()
    lines = (repo / "pkg" / "a.go").read_text().splitlines(keepends=True)
    lines[2] = "line 3 changed\n"  # a change: line 3
    del lines[6]  # a deletion: old line 7, between new lines 6 and 7
    lines.append("line 11\nline 12\n")  # an addition: new lines 10-11
    (repo / "pkg" / "a.go").write_text("".join(lines))
    (repo / "pkg" / "gone.go").unlink()
    (repo / "pkg" / "new.go").write_text("n1\nn2\nn3\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "head")
    return repo, base, _git(repo, "rev-parse", "HEAD").strip()


def test_changed_lines_are_heads_side(tmp_path: Path) -> None:
    repo, base, head = _repo(tmp_path)
    got = gitrev.changed_lines(repo, base, head, Path("pkg"))
    assert got == {"pkg/a.go": [(3, 3), (6, 7), (10, 11)], "pkg/new.go": [(1, 3)]}


def test_diff_sides_give_status_and_both_sides(tmp_path: Path) -> None:
    repo, base, head = _repo(tmp_path)
    got = gitrev.diff_sides(repo, base, head, Path("pkg"))
    assert got["pkg/a.go"] == ("M", [(3, 3), (7, 7)], [(3, 3), (10, 11)])
    assert got["pkg/gone.go"] == ("D", [(1, 2)], [])
    assert got["pkg/new.go"] == ("A", [], [(1, 3)])
    (repo / "pkg" / "untracked.go").write_text("u\n")
    assert gitrev.diff_sides(repo, head, None, Path("pkg")) == {"pkg/untracked.go": ("A", [], [])}
