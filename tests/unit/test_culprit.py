"""Culprit finding's pure parts: the bisection's next candidate around skipped commits, the record that
covers a later run's range, and the issue body's escaping of untrusted text."""

from __future__ import annotations

from benchpipe.core.artifacts import Culprit
from benchpipe.render import culprit as render
from benchpipe.revisions.culprit import _candidate
from benchpipe.store.culprits import covering


def test_the_next_candidate_is_the_middle_or_its_nearest_unskipped_neighbour() -> None:
    assert _candidate(-1, 4, set()) == 1
    assert _candidate(-1, 4, {1}) in (0, 2) and _candidate(-1, 4, {1, 0}) == 2
    assert _candidate(-1, 4, {0, 1, 2, 3}) is None  # every commit between is skipped: the range stands
    assert _candidate(2, 3, set()) is None  # adjacent: nothing between


def _c(**kw: object) -> Culprit:
    base = {
        "package": "m/p",
        "benchmark": "BenchmarkX",
        "unit": "ns/op",
        "good": "g",
        "bad": "b",
        "status": "found",
    }
    return Culprit(**{**base, **kw})


def test_a_record_covers_a_later_range_that_holds_its_commit_and_only_its_own_result() -> None:
    rec = _c(good="g0", bad="b0", commit="c3")
    assert (
        covering([rec], _c(good="g1", bad="b1"), {"c2", "c3", "b1"}) is rec
    )  # its culprit lies in the range
    assert covering([rec], _c(good="g1", bad="b1"), {"c4", "b1"}) is None  # landed before this range
    assert covering([rec], _c(benchmark="BenchmarkY", good="g1", bad="b1"), {"c3"}) is None
    assert covering([_c(status="not reproduced", commit="c3")], _c(), {"c3"}) is None
    ranged = _c(status="range", commit="", first_bad="c5", good="g0", bad="b0")
    assert covering([ranged], _c(good="g2", bad="b2"), {"c5"}) is ranged
    assert covering([rec], _c(good="g0", bad="b0"), set()) is rec  # the same range, searched once


def test_the_issue_body_keeps_subjects_and_names_as_text() -> None:
    c = _c(
        commit="a" * 40,
        subject="fix <script>alert(1)</script> for @octocat [x](javascript:alert(1))",
        benchmark="BenchmarkX/`tick`",
        change_pct=23.5,
        lo_pct=20.0,
        hi_pct=27.0,
    )
    body = render.issue_body([c], "https://example.invalid/commit/{commit}")
    # escaped as every untrusted text is (benchpipe.core.untrusted): no tag, no mention, no link
    assert "fix \\<script\\>alert(1)\\</script\\> for @\u200boctocat \\[x\\](javascript:alert(1))" in body, (
        body
    )
    assert "[`aaaaaaaaaaaa`](https://example.invalid/commit/" + "a" * 40 + ")" in body
    assert "+23.5% [+20.0%, +27.0%]" in body
    line = render.line(c)
    assert line.startswith("culprit: BenchmarkX/`tick` ns/op: aaaaaaaaaaaa") and "+23.5%" in line


def test_a_run_that_improves_a_result_with_a_recorded_culprit_says_it_looks_reverted() -> None:
    from benchpipe.core.artifacts import CompareDoc
    from benchpipe.core.stats import summarize
    from benchpipe.core.verdict import Row
    from benchpipe.revisions.culprit import reverted

    s = summarize([1.0] * 6)
    row = Row(
        package="m/p",
        benchmark="BenchmarkX-2",
        unit="ns/op",
        old=s,
        new=s,
        delta_pct=-18.0,
        verdict="improvement",
    )
    doc = CompareDoc(verdict="PASS", threshold_pct=10.0, alpha=0.05, rows=[row])
    rec = _c(commit="c" * 40, subject="slow")
    [r] = reverted(doc, [rec, _c(benchmark="BenchmarkY", commit="d" * 40)], improvements=False)
    assert r.status == "reverted" and r.commit == "c" * 40 and "-18.0%" in r.why and "looks reverted" in r.why
    assert reverted(doc, [rec], improvements=True) == []  # attributed as improvements instead
    # -18% takes back a +20% regression (more than half of it), not a +70% one (noise, or another change)
    assert [x.status for x in reverted(doc, [_c(commit="c" * 40, change_pct=20.0)], False)] == ["reverted"]
    assert reverted(doc, [_c(commit="c" * 40, change_pct=70.0)], improvements=False) == []
    assert reverted(doc, [_c(status="range", first_bad="c" * 40)], improvements=False) == []
