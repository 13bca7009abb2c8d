"""benchpipe: benchmark Go code, explain it with profiles, catch regressions.

One package per concern, data flowing one way: ``cli`` (the ``benchpipe`` command DVC calls) ->
``stages`` (bench, parse, compare, profile, record, report) and ``revisions`` (paired compares of git
revisions) -> ``render`` (text, Markdown, charts) -> ``store`` (params, baselines, history) and ``go``
(the toolchain) -> ``core`` (the benchmark format, units, statistics, verdicts, pprof).
"""

__version__ = "0.1.0"
