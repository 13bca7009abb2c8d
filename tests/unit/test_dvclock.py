"""benchpipe.cli.dvclock: dvc.lock read with DVC's safe loader writes the same bytes as DVC's own way."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _rewrite(modify, path: Path) -> str:  # noqa: ANN001
    """What DVC's lockfile dump does: read, replace one stage's entry with fresh plain data, write."""
    from dvc.utils.serialize import load_yaml

    fresh = load_yaml(str(ROOT / "dvc.lock"))["stages"]["compare"]
    fresh["deps"][0]["md5"] = "0" * 32  # a new run's hash
    with modify(str(path)) as data:
        data["stages"]["compare"] = fresh
    return path.read_text()


def test_the_lock_is_written_the_same_and_only_the_lock_is_read_differently(tmp_path: Path) -> None:
    import dvc.dvcfile as dvcfile

    from benchpipe.cli import dvclock

    original = dvcfile.modify_yaml
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for d in ("a", "b"):
        shutil.copy(ROOT / "dvc.lock", tmp_path / d / "dvc.lock")
    theirs = _rewrite(original, tmp_path / "a" / "dvc.lock")
    try:
        assert dvclock.install(), "this DVC no longer has the functions dvclock replaces"
        assert dvcfile.modify_yaml is not original
        ours = _rewrite(dvcfile.modify_yaml, tmp_path / "b" / "dvc.lock")
        assert ours == theirs and "0" * 32 in ours
        (tmp_path / "dvc.yaml").write_text("stages:  # a comment DVC keeps\n  s:\n    cmd: 'true'\n")
        with dvcfile.modify_yaml(str(tmp_path / "dvc.yaml")) as data:
            data["stages"]["s"]["cmd"] = "false"
        assert "# a comment DVC keeps" in (tmp_path / "dvc.yaml").read_text()  # round-trip, as before
    finally:
        dvcfile.modify_yaml = original
