"""One hostile corpus: the untrusted text benchpipe shows (benchmark names, units, Go's messages, paths,
commit subjects, branch names), built to break every output it reaches. Nothing in it may render as markup,
mention anyone, start a workflow command or reorder what a reader sees."""

from __future__ import annotations

BIDI = "\u202e\u2066\u2069\u202a"
NAME = "a`<img/src=//x.invalid/p.png>`[click](https://x.invalid)_@octocat_<!--"
UNIT = "x|y<!--h-->@octocat"
MESSAGE = "boom\n## benchpipe: PASS\n::stop-commands::tok\n%0A::error::forged @octocat <!-- `"
CORPUS = [
    NAME,
    UNIT,
    MESSAGE,
    "BenchmarkX/`|<img src=x onerror=y>|-2",
    "p/a`b|c<script>alert(1)</script>\n## x.go",
    "``` fenced\n<details><summary>hidden</summary>",
    "::add-mask::x",
    "%0A::warning::x%0D",
    "Bench/" + "A" * 10_000,
    f"access{BIDI}level=admin // user",
    "www.x.invalid and https://x.invalid/a?b=c @team/ops #1",
    "*emph* **strong** ~~del~~ > quote\n- item\n1. one",
]
