"""One hostile corpus through every output, from a real Go module (tests/fixtures/hostile): benchmark names,
a `b.ReportMetric` unit and a `b.Fatal` message built to fake verdicts, hide text, link, mention, start
workflow commands and reorder text (a bidirectional override). A paired compare that FAILs on them, its job
summary, PR comment, annotations and `gate`; the pipeline's report with a failing benchmark; the dashboard;
and every command's output. Markdown is rendered by cmark-gfm as GitHub renders it."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from ..conftest import ROOT, run
from ..rendered import BIDI, assert_inert, mentions, render
from .test_paired import committed_copy, git

FIXTURE = ROOT / "tests" / "fixtures" / "hostile"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
}
OURS = ("::error title=benchpipe ", "::warning title=benchpipe ")


def _log_is_inert(text: str) -> None:
    """A CI log: no line starts a workflow command but benchpipe's own annotations; no bidirectional
    control."""
    for line in text.splitlines():
        assert not line.startswith("::") or line.startswith(OURS), line[:200]
        assert not re.match(r"\s*::(stop-commands|add-mask|set-output|set-env)", line), line[:200]
    assert not BIDI.search(text), BIDI.search(text)


def _external(html: str) -> list[str]:
    """Links and images that point away from the page (to the hostile corpus's host)."""
    return [
        v
        for v in re.findall(r'(?:href|src)="([^"]*)"', html)
        if "x.invalid" in v and re.match(r"(?i)([a-z][a-z0-9+.-]*:|//)", v)
    ]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))


def test_the_hostile_corpus_stays_text_everywhere(tmp_path: Path) -> None:
    repo = committed_copy(FIXTURE, tmp_path / "hostile")
    (repo / "hostile.go").write_text(
        (repo / "hostile.go").read_text().replace("var Extra = 0", "var Extra = 400")
    )
    git(repo, "commit", "-qam", "Work: more work <img src=x> @octocat \u202e")

    # a paired compare that fails on the hostile results, and what CI shows of it
    out = tmp_path / "paired.json"
    p = run(
        [
            "benchpipe",
            "compare",
            "--target",
            str(repo),
            "--base",
            "HEAD~1",
            "--head",
            "HEAD",
            "--rounds",
            "8",
            "--benchtime",
            "200x",
            "--out",
            str(out),
            "--cache-dir",
            str(tmp_path / "cache"),
        ]
    )
    assert p.returncode == 1, (p.stdout + p.stderr)[-3000:]
    logs = p.stdout + p.stderr
    doc = json.loads(out.read_text())
    regressed = [r for r in doc["rows"] if r["verdict"] == "regression"]
    assert any("x.invalid" in r["benchmark"] for r in regressed) and any(
        "octocat" in r["unit"] for r in regressed
    )
    summary, comment = tmp_path / "summary.md", tmp_path / "comment.md"
    a = run(["benchpipe", "annotate", str(out), "--summary", str(summary), "--comment", str(comment)])
    assert a.returncode == 0, a.stderr
    assert sum(ln.startswith("::error title=benchpipe regression::") for ln in a.stdout.splitlines()) == len(
        regressed
    )
    g = run(["benchpipe", "gate", "--compare", str(out), "--record", str(tmp_path / "none.json")])
    assert g.returncode == 1
    logs += a.stdout + a.stderr + g.stdout + g.stderr
    for md in (summary.read_text(), comment.read_text()):
        r = assert_inert(
            md,
            {"h2", "p", "code", "table", "thead", "tbody", "tr", "th", "td", "ul", "li", "strong", "a"},
            table_cells=6,
        )
        assert r.tags.count("h2") == 1 and not _external(r.html)

    # a benchmark that fails with a hostile message: one line, exit 2, in a paired compare and in the pipeline
    bad = run(
        [
            "benchpipe",
            "compare",
            "--target",
            str(repo),
            "--base",
            "HEAD~1",
            "--head",
            "HEAD",
            "--rounds",
            "8",
            "--benchtime",
            "200x",
            "--out",
            str(tmp_path / "bad.json"),
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
        env={"HOSTILE_FAIL": "1"},
    )
    assert bad.returncode == 2 and "BenchmarkFails failed" in bad.stderr, bad.stderr[-2000:]
    logs += bad.stdout + bad.stderr
    assert run(["benchpipe", "init", "--pip", "benchpipe"], cwd=repo).returncode == 0
    env = {
        **GIT_ENV,
        "BENCHPIPE_OVERRIDES": json.dumps(
            {
                "modes.quick.benchtime": "100x",
                "modes.quick.count": 1,
                "profile.benchtime": "100x",
                "profile.max_s": 2,
            }
        ),
    }
    q = run(["invoke", "quick"], cwd=repo, env={**env, "HOSTILE_FAIL": "1"})
    assert q.returncode == 2 and "BenchmarkFails failed" in q.stdout + q.stderr, (q.stdout + q.stderr)[-3000:]
    logs += q.stdout + q.stderr

    # the pipeline's report and the dashboard of the history, with the hostile names in them
    q = run(["invoke", "quick"], cwd=repo, env=env)
    assert q.returncode == 0, (q.stdout + q.stderr)[-3000:]
    logs += q.stdout + q.stderr
    report = (repo / "reports" / "report.md").read_text()
    assert "x.invalid" in report and "octocat" in report  # shown, as text
    r = render(report)
    assert not mentions(r) and not BIDI.search(r.html), mentions(r)
    assert not _external(r.html)  # our own graphs are linked (relative paths); nothing leaves the report
    assert "details" not in r.tags and "script" not in r.tags
    assert not any("h--" in c or "octocat" in c for c in r.comments), r.comments
    g = run(["benchpipe", "gate", "--allow-missing-baseline"], cwd=repo)
    assert g.returncode == 0, g.stdout + g.stderr
    logs += g.stdout + g.stderr
    s = run(["benchpipe", "publish", "--out", "reports/site"], cwd=repo, env=env)
    assert s.returncode == 0, s.stderr
    logs += s.stdout + s.stderr
    for page in (repo / "reports" / "site").rglob("*.html"):
        html = page.read_text()
        tags = _Tags()
        tags.feed(html)
        assert not any(t in ("img", "details", "summary") for t, _ in tags.tags), page
        links = [attrs.get(k) or "" for _, attrs in tags.tags for k in ("href", "src", "action")]
        assert not [v for v in links if "x.invalid" in v and re.match(r"(?i)([a-z][a-z0-9+.-]*:|//)", v)], (
            page
        )
        assert not BIDI.search(html) and "<!--h-->" not in html, page
    _log_is_inert(logs)


def test_a_forged_comparison_cannot_command_the_verdict_job(tmp_path: Path) -> None:
    """A shard's JSON comes from the pull request's run: `merge`, `gate` and `annotate` print nothing from it
    that starts a workflow command, whatever its failures, notes and names hold."""
    from benchpipe.core.artifacts import CompareDoc, Failure
    from benchpipe.core.stats import Summary
    from benchpipe.core.verdict import Row
    from benchpipe.store import artifacts

    from ..hostile import CORPUS

    doc = CompareDoc(
        verdict="FAIL",
        note=CORPUS[2],
        not_comparable=list(CORPUS),
        failures=[Failure(kind="stall", package="m", benchmark=t, message=t) for t in CORPUS],
        rows=[
            Row(
                package="m",
                benchmark=t,
                unit=t,
                old=Summary(center=1.0, n=6),
                new=Summary(center=2.0, n=6),
                delta_pct=100.0,
                p=0.002,
                significant=True,
                verdict="regression",
                threshold_pct=10,
            )
            for t in CORPUS
        ],
    )
    forged = tmp_path / "compare.json"
    artifacts.write(forged, doc)
    logs = ""
    for argv in (
        ["benchpipe", "gate", "--compare", str(forged), "--record", str(tmp_path / "none.json")],
        ["benchpipe", "gate", "--compare", str(forged), "--format", "json"],
        ["benchpipe", "annotate", str(forged), "--summary", str(tmp_path / "s.md")],
    ):
        p = run(argv, cwd=tmp_path)
        assert p.returncode in (0, 2), p.stderr
        logs += p.stdout + p.stderr
    assert "::stop-commands::" in logs  # shown, inside a line
    _log_is_inert(logs)
    assert_inert(
        (tmp_path / "s.md").read_text(),
        {"h2", "p", "code", "table", "thead", "tbody", "tr", "th", "td", "ul", "li", "strong"},
        table_cells=6,
    )
