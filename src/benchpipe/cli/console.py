"""What a ``benchpipe`` process prints is inert in a terminal and in a CI log.

:func:`install` wraps standard output and error: each line written is shown by
:func:`benchpipe.core.untrusted.visible` (controls but tabs, bidirectional and invisible characters as
escapes), and a line that would start with ``::`` (a GitHub Actions workflow command: ``::stop-commands::``,
``::add-mask::``, ``::error::``) is indented by one space, so no text from the code under test (a benchmark's
name, Go's messages, a forged comparison's JSON) becomes a command. The one writer of real workflow commands
is
:func:`workflow_command`, whose data is escaped by the caller
(:func:`benchpipe.core.untrusted.workflow_data`).
"""

from __future__ import annotations

import io
import sys
from typing import TextIO

from benchpipe.core.untrusted import plain_lines, visible


def inert(line: str) -> str:
    """One line as it may appear in a log."""
    text = visible(line, tabs=True)
    return " " + text if text.startswith("::") else text


class _Lines(io.TextIOBase):
    """A text stream that writes every complete line through :func:`inert` (a partial line waits for its end
    or a flush)."""

    def __init__(self, raw: TextIO) -> None:
        self.raw = raw
        self.partial = ""

    def write(self, s: str) -> int:
        text = self.partial + s
        cut = text.rfind("\n") + 1
        self.partial, body = text[cut:], text[:cut]
        if body:
            self.raw.write(
                body if plain_lines(body) else "".join(inert(ln) + "\n" for ln in body[:-1].split("\n"))
            )
        return len(s)

    def flush(self) -> None:
        if self.partial:
            self.raw.write(inert(self.partial))
            self.partial = ""
        self.raw.flush()

    def fileno(self) -> int:
        return self.raw.fileno()

    def isatty(self) -> bool:
        return self.raw.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.raw.encoding


def install() -> None:
    """Wrap ``sys.stdout`` and ``sys.stderr`` (once)."""
    if not isinstance(sys.stdout, _Lines):
        sys.stdout = _Lines(sys.stdout)  # type: ignore[assignment]
    if not isinstance(sys.stderr, _Lines):
        sys.stderr = _Lines(sys.stderr)  # type: ignore[assignment]


def workflow_command(command: str) -> None:
    """Print one GitHub Actions workflow command (``::error title=...::data``), built from escaped data."""
    out = sys.stdout.raw if isinstance(sys.stdout, _Lines) else sys.stdout
    sys.stdout.flush()
    out.write(command.replace("\n", "%0A").replace("\r", "%0D") + "\n")
