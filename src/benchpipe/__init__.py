"""benchpipe: benchmark Go code, explain it with profiles, catch regressions.

The package is split one concern per module, data flowing one way:
format (read benchfmt) -> units -> stats -> compare -> output, and the
pipeline stages bench -> parse -> compare -> profile -> report, driven by
the ``benchpipe`` CLI (cli.py) that DVC calls.
"""

__version__ = "0.1.0"
