"""Impact selection across revisions: the coverage map a comparison uses, the changes, and the selection
(:func:`benchpipe.core.impact.select`).

The map is the merge base's, or the nearest first-parent ancestor's that has one stored
(:mod:`benchpipe.store.coverage`). The changes are the diff base..head and, when the map is older than the
base, the diff map..base too: what changed between the map and the base (a function a benchmark has
called since) then selects as well, so nothing is missed. A map more than ``impact.max_age`` commits
older than the merge base runs everything. With no map stored, the merge base's is built here and its
cost counted (``impact.build_missing``), else the caller falls back to package-level selection, said so
(``fallback``). Two sides with the same code (an A/A run) run everything: that is what such a run is for.

:func:`build` is also what the default-branch job runs (``benchpipe impact map``) to keep maps current.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchpipe.core.errors import BenchpipeError
from benchpipe.core.impact import Change, CoverageMap, Selection, select
from benchpipe.core.settings import ImpactSection
from benchpipe.go import coverage
from benchpipe.go import git as gitrev
from benchpipe.store import coverage as maps
from benchpipe.store.objstore import Store

AA = "base and head are the same code: an A/A run, everything runs"
LOOK_BACK = 1000  # first-parent commits searched for an older map (beyond max_age: it runs everything)


@dataclass
class Request:
    target: Path  # the module (a git work tree)
    base_rev: str
    head_rev: str | None  # None: the working tree
    patterns: list[str]
    bench: str
    cache: Path
    store: Store | None
    settings: ImpactSection


def build(target: Path, rev: str, patterns: list[str], bench: str, cache: Path) -> CoverageMap:
    """The map of ``rev`` (checked out apart; its covered binaries cached by commit)."""
    root = gitrev.toplevel(target.resolve())
    rel = target.resolve().relative_to(root)
    sha = gitrev.resolve(root, rev)
    with gitrev.worktrees() as wt:
        module = wt.add(root, sha, "cover") / rel
        cmap = coverage.build_map(module, patterns, bench, cache, sha)
    cmap.target = rel.as_posix()
    return cmap


def _nested_module(module: Path, path: str) -> str:
    """The directory of the nested module ``path`` (relative to ``module``) lies in, "" for none: such code
    is no package of this module, yet a ``replace`` directive may build it in."""
    parts = Path(path).parts[:-1]
    for i in range(len(parts), 0, -1):
        if (module.joinpath(*parts[:i]) / "go.mod").exists():
            return "/".join(parts[:i])
    return ""


def _changes(
    root: Path, rel: Path, since: str, head: str | None, cache: Path, decls: bool = True
) -> list[Change]:
    """The diff ``since..head`` under the module, per file relative to it, Go files with their
    declarations on both sides (``decls``; benchpipe's own pipeline files left out)."""
    sides = gitrev.diff_sides(root, since, head, rel)
    prefix = "" if str(rel) in ("", ".") else rel.as_posix() + "/"
    out: list[Change] = []
    with tempfile.TemporaryDirectory(prefix="benchpipe-impact-") as tmp:
        old_dir, new_dir = Path(tmp, "old"), Path(tmp, "new")
        go_old, go_new = [], []
        for path, (status, old_lines, new_lines) in sorted(sides.items()):
            mpath = path[len(prefix) :] if path.startswith(prefix) else path
            if mpath.split("/", 1)[0] in gitrev.PIPELINE_FILES:
                continue
            out.append(Change(path=mpath, status=status, old_lines=old_lines, new_lines=new_lines))
            out[-1].nested = _nested_module(root / prefix, mpath)
            if not mpath.endswith(".go"):
                continue
            old = gitrev.show(root, since, path) if status != "A" else None
            if head is None:
                f = root / path
                new = f.read_bytes() if status != "D" and f.exists() else None
            else:
                new = gitrev.show(root, head, path) if status != "D" else None
            for data, base, names in ((old, old_dir, go_old), (new, new_dir, go_new)):
                if data is not None:
                    (base / mpath).parent.mkdir(parents=True, exist_ok=True)
                    (base / mpath).write_bytes(data)
                    names.append(mpath)
        old_decls = coverage.declarations(old_dir, go_old, cache) if go_old else {}
        new_decls = coverage.declarations(new_dir, go_new, cache) if go_new else {}
    for c in out:
        c.old, c.new = old_decls.get(c.path), new_decls.get(c.path)
    return out


def choose(req: Request) -> Selection:
    """The selection for a comparison of ``base_rev`` and ``head_rev`` (see the module's docstring)."""
    target = req.target.resolve()
    root = gitrev.toplevel(target)
    rel = target.relative_to(root)
    base = gitrev.resolve(root, req.base_rev)
    head = gitrev.resolve(root, req.head_rev) if req.head_rev else None
    changes = _changes(root, rel, base, head, req.cache)
    if not changes:
        return Selection(map_note="base and head are the same code", run_all=[AA])
    mb = gitrev.merge_base(root, base, head or "HEAD")
    ancestors = gitrev.first_parents(root, mb, LOOK_BACK)
    stored, store_note = maps.available(req.cache, req.store)
    found = next(((i, sha) for i, sha in enumerate(ancestors) if sha in stored), None)
    cmap, spent = None, 0.0
    if found is not None and found[0] <= req.settings.max_age:
        cmap = maps.load(found[1], req.cache, req.store)
    if cmap is None and req.settings.build_missing:
        try:
            cmap = build(target, mb, req.patterns, req.bench, req.cache)
        except BenchpipeError as e:  # the comparison itself says what does not build
            return Selection(
                map_note=f"no map: {e.message}", run_all=["the merge base's coverage map could not be built"]
            )
        maps.save(cmap, req.cache, None)
        spent, found = cmap.seconds, (0, mb)
        note = f"coverage map of the merge base {mb[:12]}, built by this run in {spent:.1f}s (none stored)"
    elif cmap is None and found is not None:
        return Selection(
            map_commit=found[1],
            map_note=f"the nearest stored map ({found[1][:12]}) is {found[0]} commits before the merge base",
            run_all=[f"the coverage map is older than impact.max_age ({req.settings.max_age} commits)"],
        )
    elif cmap is None:
        return Selection(
            map_note="no coverage map stored for the merge base or an ancestor (impact.build_missing is off)",
            fallback="package",
        )
    else:
        assert found is not None
        note = f"coverage map of {found[1][:12]}" + (
            " (the merge base)" if found[0] == 0 else f", {found[0]} commits before the merge base {mb[:12]}"
        )
    if cmap.commit != base:  # what changed since the map may have changed what a benchmark executes
        changes += _changes(root, rel, cmap.commit, base, req.cache)
    benchmarks = [tuple(k.split(" ", 1)) for k in [*cmap.benchmarks, *cmap.failed]]
    sel = select(changes, cmap, [(p, n) for p, n in benchmarks])
    sel.map_note, sel.map_seconds = note + (f"; {store_note}" if store_note else ""), spent
    return sel
