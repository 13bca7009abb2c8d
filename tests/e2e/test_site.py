"""The published dashboard in a real browser (Debian's chromium, driven by playwright): a history with a
known shift, real Go runs of benchmarks with hostile names, a benchmark that appears in one run only, and
an empty history. Screenshots are kept in $TMPDIR/benchpipe-screenshots/."""

from __future__ import annotations

import re
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from benchpipe.core import benchfmt
from benchpipe.core.artifacts import BenchMeta
from benchpipe.store import history

from ..conftest import DATA, ROOT, quick_params, run

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(tempfile.gettempdir()) / "benchpipe-screenshots"  # kept for a look, outside the checkout
HOSTILE = r"""package core

import "testing"

func BenchmarkZHostile(b *testing.B) {
	for _, name := range []string{"<img src=x onerror=alert(document.domain)>", "<script>alert(1)</script>",
		`"quoted" & 'single'`,
		"long-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" +
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"} {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
			}
		})
	}
}
"""
COMMIT_URL = "https://example.invalid/commit/{commit}"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


def _page(browser, url: str):
    page = browser.new_page()
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(url)
    page.wait_for_function("document.documentElement.dataset.ready === '1'")
    return page, problems


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    tmp = tmp_path_factory.mktemp("site")
    store = tmp / "hist"
    fast, slow = (benchfmt.read_files([DATA / f]) for f in ("example_fast.txt", "example_slow.txt"))
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    commits = [f"{i:02d}{'c' * 38}" for i in range(12)]
    for i, c in enumerate(commits):  # a known shift: runs 6.. are the slow build
        history.append(
            store,
            fast if i < 6 else slow,
            BenchMeta(commit=c, branch="main", module="example.com/policyengine"),
            t0 + timedelta(hours=i),
        )
    # real Go runs of benchmarks with hostile names (they appear in this one run only)
    example = tmp / "policyengine"
    shutil.copytree(ROOT / "examples" / "policyengine", example)
    (example / "pkg" / "core" / "zhostile_test.go").write_text(HOSTILE)
    params = quick_params(tmp, example, bench="ZHostile", count=1, benchtime="10x", packages=["./pkg/core"])
    p = run(
        [
            "benchpipe",
            "bench",
            "--params",
            str(params),
            "--out",
            str(tmp / "h.txt"),
            "--meta",
            str(tmp / "h.json"),
        ],
        cwd=tmp,
    )
    assert p.returncode == 0, p.stderr
    rec = run(
        [
            "benchpipe",
            "record",
            "--params",
            str(params),
            "--raw",
            str(tmp / "h.txt"),
            "--meta",
            str(tmp / "h.json"),
            "--history",
            str(store),
            "--out",
            str(tmp / "rec.json"),
            "--dvc-out",
            str(tmp / "d"),
        ],
        env={"GITHUB_RUN_ID": ""},
    )
    assert rec.returncode == 0, rec.stderr
    prm = tmp / "publish.yaml"
    prm.write_text(params.read_text() + f"\npublish:\n  commit_url: {COMMIT_URL}\n")
    p = run(["benchpipe", "publish", "--store", str(store), "--out", str(tmp / "site"), "--params", str(prm)])
    assert p.returncode == 0, p.stderr
    SHOTS.mkdir(parents=True, exist_ok=True)
    return tmp / "site", commits


def test_search_click_chart_hover_and_feed(browser, site: tuple[Path, list[str]]) -> None:
    out, commits = site
    page, problems = _page(browser, (out / "index.html").as_uri())
    total = page.locator("#benchmarks tbody tr").count()
    page.fill("#q", "compile")
    visible = page.locator("#benchmarks tbody tr:not([hidden])")
    names = visible.locator("td.name").all_text_contents()
    assert names and len(names) < total and all("compile" in n.lower() for n in names)
    page.screenshot(path=str(SHOTS / "site-index-search.png"), full_page=True)
    page.fill("#q", "")
    # sorting by a column: the newest values, ascending then descending
    newest = page.locator("#benchmarks thead th").nth(5).locator("button")  # "Newest"
    newest.click()
    vals = [
        float(v)
        for v in page.locator("#benchmarks tbody tr td:nth-child(6)").evaluate_all(
            "cells => cells.map(c => c.dataset.v)"
        )
    ]
    assert vals == sorted(vals)
    newest.click()
    assert page.locator("#benchmarks thead th").nth(5).get_attribute("aria-sort") == "descending"
    # the moved view: only series with a change point among their last 10 runs
    page.check("#moved")
    moved = page.locator("#benchmarks tbody tr:not([hidden])")
    assert 0 < moved.count() < total
    assert all(int(s) < 10 for s in moved.evaluate_all("rows => rows.map(r => r.dataset.since)"))
    page.uncheck("#moved")
    # one row per benchmark (not per unit): its time first, GOMAXPROCS its own column, other units in a cell
    names = page.locator("#benchmarks tbody td.name").all_text_contents()
    assert len(names) == len(set(names)) == total and "BenchmarkEvaluate" in names, names
    row = page.locator(
        "#benchmarks tbody tr", has=page.locator("td.name", has_text=re.compile(r"^BenchmarkEvaluate$"))
    )
    assert row.count() == 1 and row.locator("td").nth(1).text_content() == "2"
    assert row.locator("td").nth(5).text_content().endswith(" ns/op")
    assert (
        "B/op" in row.locator("td.units-cell").text_content()
        and "allocs/op" in row.locator("td.units-cell").text_content()
    )
    page.select_option("#f-unit", "B/op")  # a view: the benchmarks that have the unit
    with_bytes = page.locator("#benchmarks tbody tr:not([hidden])").count()
    assert 0 < with_bytes <= total
    page.select_option("#f-unit", "")
    row.locator("td.name a").click()
    page.wait_for_function("document.documentElement.dataset.ready === '1'")
    assert page.locator("h1").text_content() == "BenchmarkEvaluate"  # the time page opens first
    assert "ns/op · GOMAXPROCS 2" in page.locator("main > p.muted").first.text_content()
    assert page.locator("#units > div").count() >= 3 and page.locator(
        "#units [aria-current=page]"
    ).text_content().startswith("ns/op")
    assert page.locator("#chart circle").count() == 12  # one point per run
    cps = page.locator("#chart line.cp")
    assert cps.count() >= 1 and cps.first.get_attribute("data-index") == "6"  # where the slow build begins
    page.locator("#chart circle").nth(7).hover()
    assert commits[7][:12] in page.locator("#tip").text_content()
    page.locator("#chart circle").nth(2).focus()
    assert commits[2][:12] in page.locator("#tip").text_content()
    assert page.locator("#runs tbody tr").count() == 12
    # human units (benchstat's scaling), the exact value on hover; no scientific notation anywhere
    median = page.locator("#runs tbody tr td:nth-child(4) span").first
    shown, exact = median.text_content(), median.get_attribute("title")
    assert re.fullmatch(r"\d+\.\d+ (n|µ|m)?s", shown) and exact.endswith(" ns/op"), (shown, exact)
    assert not re.search(r"\de[+-]\d", page.locator("body").text_content())
    page.screenshot(path=str(SHOTS / "site-benchmark.png"), full_page=True)
    feed, feed_problems = _page(browser, (out / "feed.html").as_uri())
    rows = feed.locator("#feed tbody tr", has=feed.locator("a", has_text="BenchmarkEvaluate-2"))
    assert rows.count() >= 1
    link = rows.first.locator(f'a[href="{COMMIT_URL.replace("{commit}", commits[6])}"]')
    assert link.count() == 1 and link.text_content() == commits[6][:12]
    feed.screenshot(path=str(SHOTS / "site-feed.png"), full_page=True)
    assert problems == [] and feed_problems == []


def test_hostile_names_render_as_text_and_nothing_runs(browser, site: tuple[Path, list[str]]) -> None:
    out, _ = site
    page, problems = _page(browser, (out / "index.html").as_uri())
    page.fill("#q", "zhostile")
    names = page.locator("#benchmarks tbody tr:not([hidden]) td.name").all_text_contents()
    # Go turns spaces into underscores; everything else of the names arrives, and stays text
    assert any("<img_src=x_onerror=alert(document.domain)>" in n for n in names), names
    assert any("<script>alert(1)</script>" in n for n in names) and any(
        "\"quoted\"_&_'single'" in n for n in names
    )
    assert any(len(n) > 150 for n in names)
    assert page.locator("#benchmarks td.name *:not(a):not(wbr)").count() == 0  # no element came out of a name
    # a long name wraps only at its "/": every line of the name cell ends at one (or is the name's end)
    long = page.locator("#benchmarks tbody tr:not([hidden]) td.name", has_text="long-aaaa").first
    assert long.locator("wbr").count() == 1 and long.text_content().startswith("BenchmarkZHostile/long-")
    link = page.locator("#benchmarks tbody tr:not([hidden]) a", has_text="onerror").first
    link.click()
    page.wait_for_function("document.documentElement.dataset.ready === '1'")
    assert "<img_src=x_onerror=alert(document.domain)>" in page.locator("h1").text_content()
    assert (
        page.locator("h1 *:not(wbr)").count() == 0 and page.locator("#chart circle").count() == 1
    )  # one run
    page.screenshot(path=str(SHOTS / "site-hostile.png"), full_page=True)
    assert problems == []


def test_empty_history_says_how_to_record_a_run(browser, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    p = run(
        [
            "benchpipe",
            "publish",
            "--store",
            str(tmp_path / "empty"),
            "--out",
            str(tmp_path / "site"),
            "--params",
            str(ROOT / "params.yaml"),
        ]
    )
    assert p.returncode == 0, p.stderr
    page, problems = _page(browser, (tmp_path / "site" / "index.html").as_uri())
    text = page.locator("#empty").text_content()
    assert "No runs are recorded" in text and "invoke quick" in text and "invoke publish" in text
    assert problems == []
