"""Go's selection of benchmarks by a ``-bench`` pattern: the one matcher of every mode, the targets, the
report and the history.

``go test -bench P`` splits P into alternatives at each ``|`` outside brackets and parentheses, and each into
levels at each ``/`` (testing's ``splitRegexp``); a result is selected by an alternative whose levels each
match (unanchored) the same level of its name, a level the name lacks matching anything. Each level is a Go
regular expression (RE2 syntax): :func:`check` rejects what Go rejects (lookaround, backreferences, atomic
groups, possessive quantifiers, conditionals, comments, ``\\Z``) with one line, before anything is built or
run, and
:func:`level` evaluates what it accepts with Python's engine as Go does (ASCII ``\\d \\w \\s \\b``; POSIX
classes such as ``[[:alpha:]]``; ``(?<name>...)`` groups; ``\\z``). Names are matched without their ``-N``
GOMAXPROCS suffix, as Go matches them.
"""

from __future__ import annotations

import re
from functools import lru_cache

from benchpipe.core.errors import BenchpipeError

_POSIX = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
# What RE2 rejects that Python's engine would take (checked outside character classes).
_NOT_RE2 = [
    (re.compile(r"\(\?(=|!|<=|<!)"), "lookaround"),
    (re.compile(r"\\[1-9]"), "a backreference"),
    (re.compile(r"\(\?P="), "a backreference"),
    (re.compile(r"\(\?>"), "an atomic group"),
    (re.compile(r"\(\?\("), "a conditional"),
    (re.compile(r"\(\?#"), "a comment"),
    (re.compile(r"(?:[*+?}])\+"), "a possessive quantifier"),
    (re.compile(r"\\Z"), "\\Z"),
]


def split_levels(pattern: str) -> list[list[str]]:
    """The pattern's alternatives, each a list of per-level regexes (testing's ``splitRegexp``):
    ``BenchmarkParse$/(a|b)/ours$`` is one alternative of three levels; ``A/x|B`` is two."""
    alts: list[list[str]] = []
    levels: list[str] = []
    brackets = parens = 0
    start = i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "[":
            brackets += 1
        elif c == "]":
            brackets = max(0, brackets - 1)
        elif c == "(" and not brackets:
            parens += 1
        elif c == ")" and not brackets:
            parens -= 1
        elif c == "\\":
            i += 1
        elif c in "/|" and not brackets and not parens:
            levels.append(pattern[start:i])
            start = i + 1
            if c == "|":
                alts.append(levels)
                levels = []
        i += 1
    alts.append([*levels, pattern[start:]])
    return alts


def _outside_classes(rx: str) -> str:
    """``rx`` with the insides of its character classes blanked (so checks see only the syntax outside)."""
    out, i, depth = [], 0, 0
    while i < len(rx):
        c = rx[i]
        if c == "\\" and i + 1 < len(rx):
            out.append(rx[i : i + 2] if not depth else "__")
            i += 2
            continue
        if c == "[" and not depth:
            depth = 1
            out.append(c)
            if rx[i + 1 : i + 2] == "^":
                out.append("_")
                i += 1
            if rx[i + 1 : i + 2] == "]":  # a literal ] first in a class
                out.append("_")
                i += 1
        elif c == "[" and rx[i + 1 : i + 2] == ":" and depth:
            end = rx.find(":]", i + 2)
            out.append("_" * ((end + 2 - i) if end >= 0 else 1))
            i = end + 2 if end >= 0 else i + 1
            continue
        elif c == "]" and depth:
            depth = 0
            out.append(c)
        else:
            out.append("_" if depth else c)
        i += 1
    return "".join(out)


def _to_python(rx: str) -> str:
    """A Go level regex in Python's syntax: POSIX classes spelled out, ``(?<name>`` and ``\\z`` translated."""
    rx = re.sub(
        r"\[\[:\^([a-z]+):\]\]", lambda m: f"[^{_posix('', m.group(1))}]", rx
    )  # a whole negated class
    if re.search(r"\[:\^[a-z]+:\]", rx):
        raise BenchpipeError("a negated POSIX class inside a larger class is not evaluated here")
    rx = re.sub(r"\[:([a-z]+):\]", lambda m: _posix("", m.group(1)), rx)
    rx = re.sub(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>", r"(?P<\1>", rx)
    return re.sub(r"(?<!\\)((?:\\\\)*)\\z", r"\1\\Z", rx)


def _posix(neg: str, name: str) -> str:
    if name not in _POSIX:
        raise BenchpipeError(f"invalid character class range [:{name}:]")
    return _POSIX[name]


@lru_cache(maxsize=4096)
def level(rx: str) -> re.Pattern[str]:
    """One level's Go regex, checked and compiled (ASCII classes, as Go's)."""
    where = _outside_classes(rx)
    for found, what in _NOT_RE2:
        if found.search(where):
            raise BenchpipeError(f"{what} is not Go regexp syntax (RE2)")
    try:
        py = _to_python(rx)
        if re.search(r"\[:\^?[a-z]+:\]", py):
            raise BenchpipeError("invalid character class")
        return re.compile(py, re.ASCII)
    except re.error as e:
        raise BenchpipeError(str(e)) from None


def check(pattern: str, what: str = "-bench") -> str:
    """``pattern`` when Go accepts it, else one line (exit 2) naming the level and why."""
    for alt in split_levels(str(pattern)):
        for i, rx in enumerate(alt):
            try:
                level(rx)
            except BenchpipeError as e:
                raise BenchpipeError(
                    f"{what}: invalid regular expression {pattern!r} (Go rejects element {i}, "
                    f"{rx!r}: {e.message})"
                ) from None
    return str(pattern)


def _base(name: str) -> str:
    m = re.search(r"-\d+$", name)
    return name[: m.start()] if m else name


def selects(pattern: str, name: str) -> bool:
    """``go test -bench pattern`` reports the result ``name`` (with or without its ``-N`` suffix): some
    alternative has no more levels than the name and each matches its level (a name with fewer levels than the
    pattern only runs once, to find its sub-benchmarks, and is not reported)."""
    elems = _base(name).split("/")
    return any(
        len(alt) <= len(elems) and all(level(rx).search(el) for rx, el in zip(alt, elems, strict=False))
        for alt in split_levels(pattern)
    )


def selects_top(pattern: str, name: str) -> bool:
    """``go test -bench pattern`` starts the top-level benchmark ``name``."""
    return any(level(alt[0]).search(name) for alt in split_levels(pattern))


def names_regex(names: list[str]) -> str:
    """A pattern matching exactly these top-level benchmark names."""
    return "^(" + "|".join(re.escape(n) for n in names) + ")$"


def restrict(pattern: str, names: list[str]) -> str:
    """``pattern`` limited to these top-level names: each alternative's first level replaced by the names it
    matches, its deeper levels kept, so a run of those benchmarks selects the same sub-benchmarks."""
    parts = []
    for alt in split_levels(pattern):
        mine = [n for n in names if level(alt[0]).search(n)]
        if mine:
            parts.append("/".join([names_regex(mine), *alt[1:]]))
    return "|".join(parts) if parts else names_regex(names)


def name_pattern(name: str) -> str:
    """A pattern matching exactly one result, level by level."""
    return "/".join(f"^{re.escape(lv)}$" for lv in name.split("/"))
