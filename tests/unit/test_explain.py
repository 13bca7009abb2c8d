"""The explanation's pure parts: function ranges from Go source, the cause when no changed function is in a
profile, hostile names in the PR comment, and recommendations that name only the module's own code."""

from __future__ import annotations

from benchpipe.core import attribution
from benchpipe.core.artifacts import CompareDoc, Explanation, Failure, Lines, Suspect
from benchpipe.core.stats import Summary
from benchpipe.core.verdict import Row
from benchpipe.go import benchsrc
from benchpipe.render import ci
from benchpipe.render.report import recommendations

from ..conftest import ROOT

SCAN = (ROOT / "tests" / "fixtures" / "explain" / "scan.go").read_text()


def _line(text: str, snippet: str) -> int:
    return text[: text.index(snippet)].count("\n") + 1


def test_function_ranges_come_from_the_go_source() -> None:
    spans = benchsrc.function_spans(SCAN)
    starts = [_line(SCAN, f"func {n}(") for n in ("Scan", "classify", "Checksum", "Process")]
    assert [s for s, _ in spans] == starts
    for (start, end), nxt in zip(spans, starts[1:] + [len(SCAN.split("\n")) + 1], strict=True):
        assert SCAN.split("\n")[end - 1] == "}" and start < end < nxt
    assert benchsrc.function_end(SCAN, 1) == 0  # no function starts on the package comment
    closure = (
        "package p\n\nfunc F() func() int {\n\tg := func() int {\n\t\treturn 1 // }\n\t}\n\treturn g\n}\n"
    )
    assert benchsrc.function_end(closure, 4) == 6 and benchsrc.function_end(closure, 3) == 8


def _suspect(fn: str, changed: list[Lines], d: float = 5.0) -> Suspect:
    s = Suspect(
        function=fn, base_own=10.0, head_own=10.0 + d, d_own=d, own_pct=d * 10, d_cum=d, changed=changed
    )
    s.why = f"{attribution.cost(s)}; " + (
        attribution.CHANGED + attribution.where(changed) if changed else attribution.NOT_CHANGED
    )
    return s


def test_cause_names_declarations_then_dependencies_then_the_environment() -> None:
    unchanged = [_suspect("m/p.F", [])]
    changed = [_suspect("m/p.G", [Lines(file="p/g.go", ranges=[[4, 6]])])]
    assert attribution.cause(changed, [], {"p/g.go": [(4, 6)]}) == ""
    assert attribution.cause(unchanged, changed, {}) == ""  # a changed function on its path explains it
    decl = [Lines(file="p/c.go", ranges=[[3, 3]])]
    assert "declarations outside functions at p/c.go:3" in attribution.cause(
        unchanged, [], {"p/c.go": [(3, 3)]}, decl
    )
    assert "go.sum changed" in attribution.cause(unchanged, [], {"go.sum": [(1, 2)], "go.mod": [(5, 5)]})
    assert attribution.cause(unchanged, [], {}) == "the environment, a dependency or go.mod may be the cause"
    line = attribution.summary(unchanged, changed, "")
    assert (
        line.startswith("m/p.F: +5.0 ns/op own code (+50%); not changed here")
        and "changed on its path: m/p.G" in line
    )
    assert attribution.where([Lines(file="a.go", ranges=[[3, 3], [7, 9]])]) == "a.go:3, 7–9"
    assert attribution.changed_lines(attribution.Span("a.go", 5, 8), {"a.go": [(1, 2), (4, 6), (8, 12)]}) == [
        Lines(file="a.go", ranges=[[5, 6], [8, 8]])
    ]


def test_hostile_text_stays_text_in_the_pr_comment() -> None:
    """Every text of the hostile corpus as a benchmark name, a unit, a changed file, a failure and a note,
    through the job summary / PR comment, rendered by cmark-gfm as GitHub renders it."""
    from ..hostile import CORPUS
    from ..rendered import BIDI, assert_inert

    for text in CORPUS:
        row = Row(
            package="m/p",
            benchmark=text,
            unit=text,
            old=Summary(center=1.0, n=6),
            new=Summary(center=2.0, n=6),
            delta_pct=100.0,
            p=0.002,
            significant=True,
            verdict="regression",
            threshold_pct=10,
            warnings=[f"untrustworthy: {text}"],
        )
        e = Explanation(
            package="m/p",
            benchmark=text,
            base_ns_op=1,
            head_ns_op=2,
            unit=text,
            suspects=[_suspect("m/p.(*T).Parse", [Lines(file=text, ranges=[[3, 4]])])],
            notes=[text],
            cause=text,
            graph="x-explain/01/diff.svg",
        )
        doc = CompareDoc(
            verdict="FAIL",
            rows=[row],
            explanations=[e],
            not_comparable=[text],
            shift=text,
            failures=[Failure(kind="stall", package="m/p", benchmark=text, message=text)],
        )
        md = ci.summary_markdown(doc, graphs_url="https://h/{graph}")
        r = assert_inert(
            md,
            {"h2", "p", "code", "table", "thead", "tbody", "tr", "th", "td", "ul", "li", "strong", "a"},
            table_cells=6,
        )
        assert r.tags.count("h2") == 1 and r.tags.count("a") == 1, md  # the call graph's link only
        assert 'href="https://h/x-explain/01/diff.svg"' in r.html
        assert len(md) < 20_000  # a 10,000-character text is cut wherever it is shown (here in 13 places)
        for line in ci.annotations(doc):
            # one line each: the data can never start a second command
            assert line.startswith(("::error title=benchpipe ", "::warning title=benchpipe ")), line
            assert "\n" not in line and "\r" not in line and not BIDI.search(line), line


def test_recommendations_never_name_harness_or_runtime_frames() -> None:
    hot = [
        {
            "function": "testing.(*B).Run",
            "flat": 90.0,
            "flat_pct": 60.0,
            "benchmark": "BenchmarkX",
            "per_op": True,
        },
        {
            "function": "runtime.malg",
            "flat": 40.0,
            "flat_pct": 30.0,
            "benchmark": "BenchmarkX",
            "per_op": True,
        },
    ]
    only_harness = recommendations.allocations(hot, "m")
    assert len(only_harness) == 1 and "allocate nothing in the module's own code" in only_harness[0]
    own = hot + [
        {
            "function": "m/p.(*Buf).Grow",
            "flat": 16.0,
            "flat_pct": 10.0,
            "benchmark": "BenchmarkX",
            "per_op": True,
        }
    ]
    named = recommendations.allocations(own, "m")
    assert named == [
        "`m/p.(*Buf).Grow` allocates 16.0 B/op (10.0% of the loop's bytes) in BenchmarkX: consider "
        "reusing buffers or preallocating."
    ]
