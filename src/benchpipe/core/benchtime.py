"""Go's ``-benchtime``, one typed value: a number of iterations (``100x``) or a duration (``500ms``,
``1m30s``).

Every place that asks "is this a fixed b.N, and which?" reads a :class:`Benchtime` (:func:`parse`), never the
text; :func:`iterations` and :func:`seconds` write the values benchpipe chooses. ``str()`` gives the flag's
value as ``go test`` takes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchpipe.core.units import go_duration_ns


@dataclass(frozen=True)
class Benchtime:
    text: str
    iters: int | None = None  # ``Nx``
    ns: float | None = None  # a duration, in nanoseconds

    @property
    def fixed(self) -> bool:
        """A fixed number of iterations (``Nx``)."""
        return self.iters is not None

    def __str__(self) -> str:
        return self.text


def parse(value: object) -> Benchtime:
    """``value`` as Go reads ``-benchtime``: ``Nx`` (N a whole number) or a Go duration; anything else keeps
    its text with neither (Go rejects it when it runs)."""
    text = str(value).strip()
    if text.endswith("x") and text[:-1].isdigit():
        return Benchtime(text, iters=int(text[:-1]))
    return Benchtime(text, ns=go_duration_ns(text))


def iterations(n: float) -> Benchtime:
    """A fixed b.N of ``n`` iterations."""
    return parse(f"{int(n)}x")


def seconds(s: float) -> Benchtime:
    """A duration of ``s`` seconds (at least 10 ms), written with three significant digits as a Go duration
    (never in exponent form, which Go does not read)."""
    s = max(s, 0.01)
    return parse(f"{s:.3g}s" if s < 1000 else f"{round(s)}s")
