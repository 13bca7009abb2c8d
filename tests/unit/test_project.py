"""What ``benchpipe init`` writes: the package's templates are this repository's own pipeline files, the
workflows shipped in examples/ci are the templates rendered for this checkout, and the params.yaml it
writes for a team's module reads as settings with that module and its packages."""

from __future__ import annotations

from pathlib import Path

import yaml

from benchpipe.core.settings import parse
from benchpipe.go import workspace
from benchpipe.store import project

from ..conftest import ROOT


def test_templates_are_this_repositorys_pipeline() -> None:
    own = (ROOT / "dvc.yaml").read_text().replace("      - src/benchpipe/render/templates\n", "")
    assert project.template("dvc.yaml.in") == own  # the report stage's template is in the package there
    assert project.template("params.yaml") == (ROOT / "params.yaml").read_text()
    # no overrides yet: what `benchpipe settings` writes for an empty run (the checkout's own params.run.yaml
    # is
    # rewritten by every `invoke` run, so it is not what this test compares with)
    from benchpipe.store.params import RUN_FILE_HEADER

    assert project.template("params.run.yaml") == RUN_FILE_HEADER + "{}\n"
    assert project.template("reports.gitignore") == (ROOT / "reports" / ".gitignore").read_text()
    assert (
        project.template("benchpipe_trend.json")
        == (ROOT / ".dvc" / "plots" / "benchpipe_trend.json").read_text()
    )
    for name, shipped in (("github-benchmarks.yml", "benchmarks.yml"), ("gitlab-ci.yml", "gitlab-ci.yml")):
        assert project.ci_template(name, ".[s3]") == (ROOT / "examples" / "ci" / shipped).read_text()


def test_params_for_a_teams_module() -> None:
    text = project.params_yaml("services/api", ["./internal/codec", "."])
    data = yaml.safe_load(text)
    assert data["target"] == "services/api" and data["modes"]["quick"]["packages"] == [
        "./internal/codec",
        ".",
    ]
    assert data["modes"]["full"]["packages"] == ["./..."]
    s = parse(data)
    assert s.target == "services/api" and s.modes["quick"].package_list == ["./internal/codec", "."]
    assert "# The Go module to benchmark" in text  # the template's comments stay
    many = yaml.safe_load(
        project.params_yaml(".", [f"./p{i}" for i in range(project.QUICK_PACKAGES_MAX + 1)])
    )
    assert many["modes"]["quick"]["packages"] == ["./..."]
    workflow = yaml.safe_load(project.ci_template("github-benchmarks.yml", "benchpipe[s3]==9.9"))
    assert workflow["env"]["BENCHPIPE_PIP"] == "benchpipe[s3]==9.9"
    assert not any(".ci/setup" in s.get("run", "") for job in workflow["jobs"].values() for s in job["steps"])


def test_modules_and_their_benchmark_packages(tmp_path: Path) -> None:
    assert workspace.modules(ROOT / "examples" / "policyengine") == [
        (ROOT / "examples" / "policyengine").resolve()
    ]
    assert workspace.bench_packages(ROOT / "examples" / "policyengine") == [
        "./pkg/core",
        "./pkg/policydomain",
    ]
    found = workspace.modules(ROOT / "tests" / "fixtures")
    assert (ROOT / "tests" / "fixtures" / "explain").resolve() in found and len(found) >= 3
    (tmp_path / "a").mkdir()
    (tmp_path / "b" / "inner").mkdir(parents=True)
    (tmp_path / "a" / "go.mod").write_text("module example.com/a\n")
    (tmp_path / "b" / "go.mod").write_text("module example.com/b\n")
    (tmp_path / "b" / "inner" / "go.mod").write_text("module example.com/b/inner\n")
    (tmp_path / "b" / "x_test.go").write_text(
        'package b\n\nimport "testing"\n\nfunc BenchmarkX(b *testing.B) {}\n'
    )
    (tmp_path / "b" / "inner" / "y_test.go").write_text(
        'package inner\n\nimport "testing"\n\nfunc BenchmarkY(b *testing.B) {}\n'
    )
    (tmp_path / "go.work").write_text("go 1.22\n\nuse (\n\t./a\n\t./b // the service\n)\n")
    assert workspace.modules(tmp_path) == [(tmp_path / "a").resolve(), (tmp_path / "b").resolve()]
    assert workspace.bench_packages(tmp_path / "b") == ["."]  # the nested module's package is its own
    assert workspace.bench_packages(tmp_path / "a") == []


def test_dvc_advice_to_git_add_is_not_printed() -> None:
    from benchpipe.cli.commands.pipeline import quiet_dvc

    out = (
        "Running stage 'report':\n> benchpipe report\nUpdating lock file 'dvc.lock'\n\n"
        "To track the changes with git, run:\n\n\tgit add dvc.lock params.run.yaml\n\n"
        "To enable auto staging, run:\n\n\tdvc config core.autostage true\n"
        "Use `dvc push` to send your updates to remote storage.\n"
    )
    kept = "".join(quiet_dvc(out.splitlines(keepends=True)))
    assert kept == (
        "Running stage 'report':\n> benchpipe report\nUpdating lock file 'dvc.lock'\n\n"
        "Use `dvc push` to send your updates to remote storage.\n"
    )


def test_readme_and_docs_links_resolve() -> None:
    import re

    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if not target.startswith(("http://", "https://", "mailto:")):
                assert (page.parent / target).exists(), f"{page.name}: broken link {target}"
    assert len((ROOT / "README.md").read_text().splitlines()) < 200


def test_peak_rss_units_per_system() -> None:
    from benchpipe.core import portable

    assert portable.maxrss_kb(204_800, "linux") == 204_800  # KiB already
    assert portable.maxrss_kb(209_715_200, "darwin") == 204_800  # bytes on macOS


def test_human_units_as_benchstat_scales_them() -> None:
    from benchpipe.core.units import human
    from benchpipe.render.site.text import value

    assert human(101_900, "ns/op") == "101.9 µs" and human(1.2, "ns/op") == "1.200 ns"
    assert human(156_700, "B/op") == "153.0 KiB" and human(0, "B/op") == "0.000 B"
    assert (
        human(1500, "allocs/op") == "1.500k allocs" and human(6.658e6, "decisions/s") == "6.658M decisions/s"
    )
    assert human(551, "p99-ns") == "551.0 ns p99"
    assert value(156_700, "B/op") == '<span title="156700 B/op">153.0 KiB</span>'


def test_every_file_the_docs_name_exists() -> None:
    """A path in backticks in the README or docs/ (a test, a module, a template) is a claim a test can
    hold."""
    import re as _re

    texts = [(ROOT / "README.md").read_text()] + [p.read_text() for p in (ROOT / "docs").glob("*.md")]
    named = {
        m
        for t in texts
        for m in _re.findall(r"`((?:tests|src|tools|examples|docs|\.ci)/[\w./-]+\.(?:py|md|yml|yaml|go))`", t)
    }
    assert named, "the docs name files"
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, missing


def test_the_tasks_take_the_options_the_readme_says() -> None:
    """The README: the tasks that run benchmarks take --target, --packages, --bench, --count and
    --benchtime."""
    import inspect

    from benchpipe import tasks

    for task in (tasks.quick, tasks.full, tasks.compare, tasks.baseline):
        params = set(inspect.signature(task.body).parameters)
        assert {"target", "packages", "bench", "count", "benchtime"} <= params, task.name
    # the tasks.py init writes is the three lines its docstring shows
    code = [ln for ln in project.TASKS_PY.splitlines() if ln.strip() and not ln.startswith('"""')]
    assert len(code) == 3 and "is three lines::" in (tasks.__doc__ or "")
    assert all(ln.strip() in tasks.__doc__ for ln in code)
