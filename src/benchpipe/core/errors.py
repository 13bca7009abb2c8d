"""Errors and the exit codes every benchpipe command shares.

0 pass (or warn), 1 regression found, 2 error (bad input, build failure,
panic, missing tool), 3 nothing to compare / nothing matched.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_ERROR = 2
EXIT_NOTHING = 3


class BenchpipeError(Exception):
    """An error shown to the user as one line, with an exit code."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


class NothingToCompare(BenchpipeError):
    """No benchmark matched, or the two sides share no benchmark."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_NOTHING)


class NothingSelected(NothingToCompare):
    """Impact selection left no benchmark to run: none executes what the diff changes (a PASS, not an
    error: the caller says so and exits 0)."""
