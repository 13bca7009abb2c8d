"""Property-based fuzzing of the readers: benchfmt / go test -json text and pprof profiles.

Random and mutated real inputs must never crash or hang the readers; every
rejected line is reported as ``file:line: message``. CI runs a small number of
cases; ``invoke fuzz`` runs the long mode (BENCHPIPE_FUZZ_CASES, default 100,000).
"""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchpipe.core import benchfmt, pprof

from ..conftest import DATA, EXAMPLE, run

CASES = int(os.environ.get("BENCHPIPE_FUZZ_CASES", "300"))
REAL_TEXT = (DATA / "example_fast.txt").read_text().splitlines()
REAL_JSON = (DATA / "example.json").read_text().splitlines()
ERROR = re.compile(r"^fuzz\.txt:\d+: \S")
fuzz = settings(max_examples=CASES, deadline=None, suppress_health_check=list(HealthCheck))


def _check(text: str) -> None:
    p = benchfmt.read_text(text, "fuzz.txt")
    n_lines = max(1, len(text.splitlines()))
    for e in p.errors:
        assert ERROR.match(e), e
        assert 1 <= int(e.split(":")[1]) <= n_lines
    for r in p.results:
        assert r.name.startswith("Benchmark") and r.iters >= 0 and r.values


@fuzz
@given(st.text(max_size=400))
def test_random_text(text: str) -> None:
    _check(text)


@fuzz
@given(st.lists(st.sampled_from(REAL_TEXT + REAL_JSON), max_size=30), st.data())
def test_mutated_real_lines(lines: list[str], data: st.DataObject) -> None:
    out = []
    for ln in lines:
        op = data.draw(st.integers(0, 4))
        if op == 1 and ln:
            i = data.draw(st.integers(0, len(ln) - 1))
            ln = ln[:i] + data.draw(st.text(max_size=3)) + ln[i + 1 :]
        elif op == 2 and ln:
            ln = ln[: data.draw(st.integers(0, len(ln)))]
        elif op == 3:
            ln = " ".join(reversed(ln.split()))
        out.append(ln)
    _check("\n".join(out))


def _both_readers(text: str, tmp: Path) -> None:
    """The column reader that ``compare`` uses (``_columns``) and the line reader agree on every input: the
    same values in the same order and the same units, or the column reader declines and the line reader is
    used."""
    data = text.encode("utf-8", errors="replace")
    fast = benchfmt._columns(data, "fuzz.txt")
    if fast is None:  # declined: read_samples falls back to the line reader, which the other tests fuzz
        return
    slow = benchfmt.read_text(data.decode("utf-8", errors="replace"), "fuzz.txt")
    assert fast.values == benchfmt.samples(slow), text[:500]
    assert fast.errors == slow.errors, text[:500]
    assert {u: (i.better, i.assume) for u, i in fast.units.items()} == {
        u: (i.better, i.assume) for u, i in slow.units.items()
    }, text[:500]


PLAIN = [ln for ln in REAL_TEXT if ln.startswith(("Benchmark", "pkg:", "goos:", "goarch:", "cpu:", "Unit "))]


@fuzz
@given(st.lists(st.sampled_from(PLAIN), max_size=40), st.data())
def test_both_readers_agree_on_mutated_plain_results(
    tmp_path: Path, lines: list[str], data: st.DataObject
) -> None:
    out = []
    for ln in lines:
        op = data.draw(st.integers(0, 5))
        if op == 1 and ln:
            i = data.draw(st.integers(0, len(ln) - 1))
            ln = (
                ln[:i]
                + data.draw(st.sampled_from(["", " ", "\t", "x", "-", "1", "e9", ".", "NaN", "+Inf"]))
                + ln[i + 1 :]
            )
        elif op == 2 and ln:
            ln = ln[: data.draw(st.integers(0, len(ln)))]
        elif op == 3:
            ln = ln.replace("ns/op", data.draw(st.sampled_from(["ns/op", "B/op", "x|y", "ns/op ns/op"])))
        out.append(ln)
    _both_readers("\n".join(out) + data.draw(st.sampled_from(["", "\n", "\r\n"])), tmp_path)


@fuzz
@given(st.text(alphabet=st.sampled_from(list("Benchmark-/ \t0123456789.e+x\nnsopB|")), max_size=300))
def test_both_readers_agree_on_random_text(tmp_path: Path, text: str) -> None:
    _both_readers(text, tmp_path)


@pytest.fixture(scope="module")
def real_profiles(tmp_path_factory: pytest.TempPathFactory, go: str) -> list[bytes]:
    d = tmp_path_factory.mktemp("prof")
    p = run(
        [
            go,
            "test",
            "-run",
            "^$",
            "-bench",
            "Evaluate$",
            "-benchtime",
            "200x",
            "-cpuprofile",
            str(d / "cpu.prof"),
            "-memprofile",
            str(d / "mem.prof"),
            "-memprofilerate",
            "1",
            "-o",
            str(d / "x.test"),
            "./pkg/core",
        ],
        cwd=EXAMPLE,
    )
    assert p.returncode == 0, p.stderr
    return [(d / "cpu.prof").read_bytes(), (d / "mem.prof").read_bytes()]


@fuzz
@given(st.data())
def test_mutated_profiles_raise_only_profile_errors(real_profiles: list[bytes], data: st.DataObject) -> None:
    raw = gzip.decompress(data.draw(st.sampled_from(real_profiles)))
    op = data.draw(st.integers(0, 3))
    if op == 0:
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    elif op == 1:
        i = data.draw(st.integers(0, len(raw) - 1))
        raw = raw[:i] + bytes([data.draw(st.integers(0, 255))]) + raw[i + 1 :]
    elif op == 2:
        raw = data.draw(st.binary(max_size=200))
    blob = gzip.compress(raw) if data.draw(st.booleans()) else raw
    try:
        prof = pprof.decode(blob)
    except pprof.ProfileError:
        return
    pprof.top(prof)  # a profile that decodes must also summarise


def test_pprof_bad_files(tmp_path: Path) -> None:
    (tmp_path / "text.prof").write_text("not a profile")
    (tmp_path / "empty.prof").write_bytes(b"")
    (tmp_path / "trunc.prof").write_bytes(gzip.compress(b"\x0a\x04\x08\x01"))
    for name, msg in (("text.prof", ""), ("empty.prof", "empty profile"), ("trunc.prof", "")):
        with pytest.raises(pprof.ProfileError) as e:
            pprof.load(tmp_path / name)
        assert str(e.value).startswith(str(tmp_path / name)) and msg in str(e.value)
    with pytest.raises(pprof.ProfileError, match="cannot read profile"):
        pprof.load(tmp_path / "missing.prof")
