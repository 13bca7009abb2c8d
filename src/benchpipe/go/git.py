"""Git revisions of a target module: resolving, worktrees, dirty state, changed files and lines.

Worktrees are created under a temporary directory with ``git worktree add
--detach`` and always removed (also on Ctrl-C); the user's checkout is never
touched and nothing is ever reset.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchpipe.core.errors import BenchpipeError


def git(args: list[str], cwd: Path, check: bool = True) -> str:
    p = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if check and p.returncode != 0:
        first = (p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[0]
        raise BenchpipeError(f"git {' '.join(args)}: {first}")
    return p.stdout.strip()


def toplevel(target: Path) -> Path:
    if not shutil.which("git"):
        raise BenchpipeError("git: not found on PATH")
    p = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=target, capture_output=True, text=True)
    if p.returncode != 0:
        raise BenchpipeError(f"{target}: not inside a git repository (paired comparison needs revisions)")
    return Path(p.stdout.strip())


def resolve(root: Path, rev: str) -> str:
    p = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if p.returncode != 0 or not p.stdout.strip():
        raise BenchpipeError(f"unknown revision {rev!r} in {root}")
    return p.stdout.strip()


# benchpipe's own files where the pipeline sits in the module's directory (`benchpipe init` with target "."):
# a run rewrites some of them (dvc.lock, params.run.yaml), and none is the code measured.
PIPELINE_FILES = (
    "dvc.yaml",
    "dvc.lock",
    "params.yaml",
    "params.run.yaml",
    "tasks.py",
    "baselines",
    "reports",
    ".dvc",
    ".dvcignore",
    ".gitignore",
    ".github",
    "benchpipe.gitlab-ci.yml",
)


def is_dirty(root: Path, rel: Path) -> bool:
    """Whether the module at ``rel`` of the repository ``root`` has uncommitted changes (benchpipe's own
    pipeline files apart)."""
    rel_s = rel.as_posix() if str(rel) not in ("", ".") else ""
    spec = [rel_s or "."] + [f":(exclude){rel_s + '/' if rel_s else ''}{p}" for p in PIPELINE_FILES]
    return bool(git(["status", "--porcelain", "--", *spec], root))


def changed_files(root: Path, base: str, head: str | None, rel: Path) -> list[Path]:
    """Files under ``rel`` that differ between base and head (head None: the working tree)."""
    spec = [base] if head is None else [base, head]
    out = git(["diff", "--name-only", *spec, "--", str(rel) or "."], root).splitlines()
    if head is None:
        out += git(["ls-files", "--others", "--exclude-standard", "--", str(rel) or "."], root).splitlines()
    return [root / f for f in out if f]


def module_changes(root: Path, base: str, head: str | None, rel: Path) -> list[str]:
    """:func:`changed_files` as paths relative to the module's directory ``rel`` (what
    :func:`benchpipe.go.toolchain.affected_packages` takes)."""
    module_root = (root / rel).resolve()
    return [
        str(f.resolve().relative_to(module_root))
        for f in changed_files(root, base, head, rel)
        if f.resolve().is_relative_to(module_root)
    ]


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def _diff_u0(root: Path, spec: list[str], where: list[str], *flags: str) -> str:
    return git(
        ["-c", "core.quotepath=off", "diff", "--no-color", "--no-ext-diff", *flags, "-U0", *spec, *where],
        root,
    )


def _hunks(text: str) -> Iterator[tuple[str, str, int, int, int, int]]:
    """Each hunk of a ``git diff -U0``: (old path, new path, old first line, old count, new first line, new
    count); a path the side does not have (an added or deleted file) is ""."""
    old = new = ""
    for line in text.splitlines():
        if line.startswith("diff --git "):
            old = new = ""
        elif line.startswith("--- "):
            old = line[6:] if line.startswith("--- a/") else ""
        elif line.startswith("+++ "):
            new = line[6:] if line.startswith("+++ b/") else ""
        elif m := _HUNK.match(line):
            counts = [int(g) if g is not None else 1 for g in (m.group(2), m.group(4))]
            yield old, new, int(m.group(1)), counts[0], int(m.group(3)), counts[1]


def changed_lines(root: Path, base: str, head: str | None, rel: Path) -> dict[str, list[tuple[int, int]]]:
    """Head's line ranges (inclusive) that ``git diff base..head`` changes under ``rel`` (head None: the
    working tree), per path in the repository. A deletion is the pair of lines around it; a file new in the
    working tree and not yet added is not in it (git diff does not see it)."""
    spec = [base] if head is None else [base, head]
    out: dict[str, list[tuple[int, int]]] = {}
    for _, path, _, _, first, count in _hunks(_diff_u0(root, spec, ["--", str(rel) or "."])):
        if path:
            out.setdefault(path, []).append(
                (first, first + count - 1) if count else (max(first, 1), first + 1)
            )
    return out


def _span(first: int, count: int) -> tuple[int, int] | None:
    return (first, first + count - 1) if count else None


def diff_sides(
    root: Path, base: str, head: str | None, rel: Path
) -> dict[str, tuple[str, list[tuple[int, int]], list[tuple[int, int]]]]:
    """Per path in the repository under ``rel``: its status (A, M, D; renames as a deletion and an
    addition) and the old and the new line ranges ``git diff -U0 base..head`` touches (head None: the
    working tree, untracked files as added)."""
    spec = [base] if head is None else [base, head]
    where = ["--", str(rel) or "."]
    out: dict[str, tuple[str, list[tuple[int, int]], list[tuple[int, int]]]] = {}
    for line in git(
        ["-c", "core.quotepath=off", "diff", "--no-renames", "--name-status", *spec, *where], root
    ).splitlines():
        status, _, path = line.partition("\t")
        if path:
            out[path] = (status[:1], [], [])
    if head is None:
        for path in git(["ls-files", "--others", "--exclude-standard", *where], root).splitlines():
            out.setdefault(path, ("A", [], []))
    for a, b, old_first, old_count, new_first, new_count in _hunks(
        _diff_u0(root, spec, where, "--no-renames")
    ):
        path = b or a
        if path in out:
            old, new = _span(old_first, old_count), _span(new_first, new_count)
            out[path][1].extend([old] if old else [])
            out[path][2].extend([new] if new else [])
    return out


def show(root: Path, rev: str, path: str) -> bytes | None:
    """The content of ``path`` (in the repository) at ``rev``; None when it has none."""
    p = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=root, capture_output=True)
    return p.stdout if p.returncode == 0 else None


def first_parents(root: Path, rev: str, n: int) -> list[str]:
    """``rev`` and its first-parent ancestors, newest first, at most ``n``."""
    return git(["rev-list", "--first-parent", f"--max-count={n}", rev], root).splitlines()


def merge_base(root: Path, a: str, b: str) -> str:
    """The best common ancestor of two commits (``a`` itself when there is none)."""
    p = subprocess.run(["git", "merge-base", a, b], cwd=root, capture_output=True, text=True)
    return p.stdout.strip() if p.returncode == 0 and p.stdout.strip() else a


def log(root: Path, good: str, bad: str) -> list[str]:
    """Commits after ``good`` up to ``bad`` on the first-parent path, oldest first."""
    out = git(["rev-list", "--first-parent", "--reverse", f"{good}..{bad}"], root)
    return out.splitlines()


@contextmanager
def worktrees() -> Iterator[WorktreeSet]:
    ws = WorktreeSet()
    try:
        yield ws
    finally:
        ws.cleanup()


class WorktreeSet:
    """Detached worktrees created for one comparison, removed together."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="benchpipe-wt-"))
        self.created: list[tuple[Path, Path]] = []

    def add(self, root: Path, sha: str, name: str) -> Path:
        path = self.tmp / name
        git(["worktree", "add", "--detach", "--quiet", str(path), sha], root)
        self.created.append((root, path))
        return path

    def cleanup(self) -> None:
        for root, path in self.created:
            subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=root, capture_output=True)
        for root, _ in self.created[:1]:
            subprocess.run(["git", "worktree", "prune"], cwd=root, capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.created.clear()
