"""What GitHub would render from a Markdown text, checked with cmark-gfm (GitHub's own Markdown library, from
PyPI): the HTML it produces before GitHub's sanitiser, and the facts a hostile text could change in it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options

BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


@dataclass
class Rendered:
    html: str
    tags: list[str] = field(default_factory=list)  # every element opened, in order
    comments: list[str] = field(default_factory=list)  # HTML comments that survive into the page
    text_outside_code: list[str] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # cells per table row


class _Walk(HTMLParser):
    def __init__(self, out: Rendered) -> None:
        super().__init__(convert_charrefs=True)
        self.out, self.code, self.cells = out, 0, -1

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.out.tags.append(tag)
        if tag == "code":
            self.code += 1
        if tag == "tr":
            self.cells = 0
        if tag in ("td", "th"):
            self.cells += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self.code -= 1
        if tag == "tr":
            self.out.rows.append(self.cells)

    def handle_comment(self, data: str) -> None:
        self.out.comments.append(data)

    def handle_data(self, data: str) -> None:
        if not self.code:
            self.out.text_outside_code.append(data)


def render(md: str) -> Rendered:
    html = cmarkgfm.github_flavored_markdown_to_html(md, options=Options.CMARK_OPT_UNSAFE)
    out = Rendered(html)
    _Walk(out).feed(html)
    return out


def mentions(r: Rendered) -> list[str]:
    """``@name`` where GitHub would mention a user: in text outside code."""
    return [m for t in r.text_outside_code for m in re.findall(r"(?<![\w`])@[A-Za-z0-9][\w-]*", t)]


def assert_inert(md: str, allowed_tags: set[str], table_cells: int | None = None) -> Rendered:
    """No element beyond ``allowed_tags``, no HTML comment but benchpipe's marker, no mention, no
    bidirectional control, and every table row with ``table_cells`` cells."""
    r = render(md)
    extra = set(r.tags) - allowed_tags
    assert not extra, (extra, md)
    assert r.comments in ([], [" benchpipe "]), r.comments
    assert not mentions(r), (mentions(r), md)
    assert not BIDI.search(r.html), md
    if table_cells is not None:
        assert r.rows and all(n == table_cells for n in r.rows), (r.rows, md)
    return r
