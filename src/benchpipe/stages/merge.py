"""``benchpipe merge``: the shards of one suite (``--shard K/N`` runs on several machines) joined into one
run: one ``bench.txt``, one ``bench.json``, one verdict (``compare.json``), then one report and job summary.

Each input is a shard's run directory (``reports/run`` of one machine: ``bench.json``, ``bench.txt``,
``compare.json``), or a paired shard's JSON (``benchpipe compare --base REV --shard K/N --out FILE``). The
merged verdict is the worst of the shards' (FAIL > WARN > PASS; NONE only when no shard had a baseline). A
shard that is missing (no directory among the inputs says it is shard K of N) or failed (its directory has no
``compare.json``, or its benchmarks did not finish) is a failure of the merged run, named, so the gate exits
2: never a silent PASS.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from benchpipe.core import shards
from benchpipe.core.artifacts import BenchMeta, CompareDoc, Failure
from benchpipe.core.errors import BenchpipeError
from benchpipe.core.verdict import worst
from benchpipe.store import artifacts, atomic


def _shard_failure(spec: str, why: str) -> Failure:
    return Failure(kind="shard", package="", benchmark=f"shard {spec}", message=f"shard {spec}: {why}")


def _read(d: Path) -> tuple[BenchMeta | None, CompareDoc | None, str]:
    """A shard's run directory, or a paired comparison's JSON (``compare --base --shard K/N --out F``)."""
    if d.is_file():
        return None, artifacts.read(d, CompareDoc), ""
    meta = artifacts.read(d / "bench.json", BenchMeta) if (d / "bench.json").exists() else None
    cmp = artifacts.read(d / "compare.json", CompareDoc) if (d / "compare.json").exists() else None
    raw = (d / "bench.txt").read_text() if (d / "bench.txt").exists() else ""
    return meta, cmp, raw


def merge(dirs: list[Path], n: int, out: Path) -> CompareDoc:
    """Join the shard directories ``dirs`` of an ``n``-way split into ``out``; returns the merged verdict."""
    found: dict[int, tuple[BenchMeta | None, CompareDoc | None, str, Path]] = {}
    failures: list[Failure] = []
    for d in dirs:
        meta, cmp, raw = _read(d)
        spec = (meta.shard if meta else "") or (cmp.shard if cmp else "")
        if not spec:
            raise BenchpipeError(
                f"{d}: not a shard's run directory (no bench.json or compare.json naming its shard)"
            )
        k, m = shards.parse(spec)
        if m != n:
            raise BenchpipeError(f"{d}: shard {spec} is not one of {n} (--shards {n})")
        if k in found:
            raise BenchpipeError(f"{d}: shard {spec} given twice ({found[k][3]} and {d})")
        found[k] = (meta, cmp, raw, d)
    for k in range(1, n + 1):
        if k not in found:
            failures.append(
                _shard_failure(f"{k}/{n}", "missing (its job failed or its artifacts were not passed)")
            )
        elif found[k][1] is None:
            failures.append(_shard_failure(f"{k}/{n}", f"failed: no compare.json in {found[k][3]}"))
    parts = [found[k] for k in sorted(found)]
    metas = [p[0] for p in parts if p[0] is not None]
    docs = [p[1] for p in parts if p[1] is not None]
    meta = _merge_meta(metas, failures)
    doc = _merge_docs(docs, failures + [f for m in metas for f in m.failures])
    out.mkdir(parents=True, exist_ok=True)
    atomic.write_text(out / "bench.txt", "".join(p[2] for p in parts))
    artifacts.write(out / "bench.json", meta)
    artifacts.write(out / "compare.json", doc)
    return doc


def _merge_meta(metas: list[BenchMeta], failures: list[Failure]) -> BenchMeta:
    if not metas:
        return BenchMeta(failures=failures, notes=["no shard recorded a run"])
    first = metas[0]
    return msgspec.structs.replace(
        first,
        shard="",
        packages=[p for m in metas for p in m.packages],
        results=sum(m.results for m in metas),
        failures=failures + [f for m in metas for f in m.failures],
        go_s=round(sum(m.go_s for m in metas), 3),
        wall_s=max(m.wall_s for m in metas),
        peak_rss_kb=max(m.peak_rss_kb for m in metas),
        notes=[f"merged from {len(metas)} shard(s)"] + [n for m in metas for n in m.notes],
        commands=[c for m in metas for c in m.commands],
    )


def _merge_docs(docs: list[CompareDoc], failures: list[Failure]) -> CompareDoc:
    if not docs:
        return CompareDoc(
            verdict="NONE", failures=failures, note="no shard produced a comparison", shards=[], warnings=[]
        )
    verdict = worst([d.verdict for d in docs])
    selected_none = any(d.verdict == "PASS" and d.paired is not None and d.paired.impact for d in docs)
    if not any(d.rows for d in docs):  # nothing compared in any shard: never a PASS, unless impact
        verdict = "PASS" if selected_none and not failures else "NONE"  # selection found nothing to run
    first = next((d for d in docs if d.paired is not None), docs[0])
    return msgspec.structs.replace(
        first,
        verdict=verdict,
        rows=[r for d in docs for r in d.rows],
        failures=failures,
        not_comparable=sorted({w for d in docs for w in d.not_comparable}),
        added=[a for d in docs for a in d.added],
        removed=[r for d in docs for r in d.removed],
        warnings=list(dict.fromkeys(w for d in docs for w in d.warnings)),
        health=[h for d in docs for h in d.health],
        shard="",
        shards=[d.shard for d in docs],
        explanations=[e for d in docs for e in d.explanations],
        geomean={},
        shift="",
        note="; ".join(dict.fromkeys(d.note for d in docs if d.note)),
        confirm=None,
        current_env=None,
    )
