"""Untrusted text made inert: the one place that decides how text from the code under test is shown.

Benchmark names, units from ``b.ReportMetric``, Go's failure and panic messages, file paths, commit subjects
and branch names come from the module benchpipe measures, which may be a stranger's pull request. Shown
anywhere (a terminal, a CI log, a job summary, a pull-request comment, the report, the dashboard), such text
must stay text: it may not

- start a line of its own (a fake heading in Markdown, a ``::`` workflow command in a CI log),
- render as markup (HTML, an HTML comment that hides the rest, a link, an image, a table cell),
- mention anyone (``@name``) or link to anything,
- reorder what a reader sees (Unicode bidirectional controls: "Trojan Source", CVE-2021-42574).

:func:`visible` is the base of every rendering: one line, every control, bidirectional, invisible or
line-breaking character shown as an escape (``\\n``, ``\\u202e``), and very long text cut with its length
said. :func:`md_code` puts text into a Markdown code span (no markup, no mention, no link inside one; ``|``
escaped in table cells); :func:`md_text` escapes text for Markdown prose and breaks mentions and autolinks;
:func:`workflow_data` escapes a GitHub Actions workflow command's data. HTML pages escape with
``html.escape`` after :func:`visible`.
"""

from __future__ import annotations

import re

# Bidirectional controls (embeddings, overrides, isolates, marks) and other invisible format characters.
_BIDI = {*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C}
_INVISIBLE = {0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x00AD, 0x180E}
_BREAKS = {0x2028, 0x2029, 0x0085}
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

LIMIT = 300  # characters of one untrusted value shown in Markdown (a 10,000-character name is cut)


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if ch in _NAMED:
        return _NAMED[ch]
    if code < 0x20 or 0x7F <= code < 0xA0:
        return f"\\x{code:02x}"
    if code in _BIDI or code in _INVISIBLE or code in _BREAKS:
        return f"\\u{code:04x}"
    return ch


_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f" + "".join(chr(c) for c in sorted(_BIDI | _INVISIBLE | _BREAKS)) + "]"
)


_UNSAFE_IN_LINES = re.compile(
    _UNSAFE.pattern.replace("\x00-\x1f", "\x00-\x08\x0b-\x1f")
)  # tabs and breaks pass


def plain_lines(text: str) -> bool:
    """``text``'s lines need no escape: no control (but tabs and line breaks), bidirectional or invisible
    character, and no line starts with ``::`` (a quick check before escaping line by line)."""
    return not text.startswith("::") and "\n::" not in text and not _UNSAFE_IN_LINES.search(text)


def visible(s: object, limit: int | None = None, tabs: bool = False) -> str:
    """``s`` as one line of text in logical order: controls, bidirectional and invisible characters shown as
    escapes (``tabs``: a tab is kept, as in Go's result lines); longer than ``limit`` characters: cut, with
    how much was cut."""
    text = _UNSAFE.sub(lambda m: "\t" if tabs and m.group() == "\t" else _escape_char(m.group()), str(s))
    if limit is not None and len(text) > limit:
        text = f"{text[:limit]}…(+{len(text) - limit} chars)"
    return text


def md_code(s: object, table: bool = False, limit: int | None = LIMIT) -> str:
    """``s`` as a Markdown code span: GitHub renders nothing inside one (no HTML, link, image, mention or
    emphasis). The fence is longer than any backtick run inside; ``table``: ``|`` is escaped so the cell
    holds. Empty text is shown as an empty pair of quotes."""
    text = visible(s, limit)
    if not text:
        return '`""`'
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ")):
        text = f" {text} "
    if table:
        text = text.replace("|", "\\|")
    return f"{fence}{text}{fence}"


_MD_PUNCT = re.compile(r"([\\`*_{}\[\]<>|#!~&])")  # emphasis, code, links, HTML, tables, entities
_ZW = "\u200b"  # a zero-width space, inserted by md_text only: it breaks a mention or an autolink


def md_text(s: object, limit: int | None = 4 * LIMIT) -> str:
    """``s`` as Markdown prose: one line, the characters of emphasis, code, links, HTML, tables and entities
    backslash-escaped, and ``@``, ``://`` and ``www.`` broken by a zero-width space so that GitHub neither
    mentions anyone nor links."""
    text = _MD_PUNCT.sub(r"\\\1", visible(s, limit))
    return text.replace("@", "@" + _ZW).replace("://", ":" + _ZW + "//").replace("www.", "www" + _ZW + ".")


def workflow_data(s: object) -> str:
    """``s`` as the data of a GitHub Actions workflow command (``::error title=...::DATA``): one line
    (:func:`visible`), with ``%`` escaped as the runner unescapes it."""
    return visible(s).replace("%", "%25")
