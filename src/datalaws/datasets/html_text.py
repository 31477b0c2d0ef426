"""Plain text from HTML pages (the Python documentation of Debian's python3-doc, for example).

Only the page's main content is kept when the page marks it (``<main>`` or ``role="main"``, as
Sphinx does), so navigation bars, indexes and footers do not enter the corpus; scripts and styles
never do. Block elements end a line; outside ``<pre>``, runs of white space collapse to one space
and a line's single leading space is dropped.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

SKIPPED = {"script", "style", "head", "title", "noscript", "template"}
BLOCKS = {
    "p", "div", "section", "article", "main", "header", "footer", "nav", "aside", "br", "hr",
    "li", "ul", "ol", "dl", "dt", "dd", "pre", "table", "tr", "td", "th", "h1", "h2", "h3", "h4",
    "h5", "h6", "blockquote", "figure", "figcaption",
}  # fmt: skip
VOID = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source", "wbr"}


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.all: list[str] = []
        self.main: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, opens the main content)
        self.skip = 0
        self.in_main = 0
        self.pre = 0

    def _emit(self, text: str) -> None:
        self.all.append(text)
        if self.in_main:
            self.main.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCKS:
            self._emit("\n")
        if tag in VOID:
            return
        is_main = tag == "main" or dict(attrs).get("role") == "main"
        self.stack.append((tag, is_main))
        self.skip += tag in SKIPPED
        self.in_main += is_main
        self.pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID or not any(t == tag for t, _ in self.stack):
            return
        while self.stack:  # close unclosed children too, as browsers do
            open_tag, is_main = self.stack.pop()
            self.skip -= open_tag in SKIPPED
            self.in_main -= is_main
            self.pre -= open_tag == "pre"
            if open_tag == tag:
                break
        if tag in BLOCKS:
            self._emit("\n")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        self._emit(data if self.pre else re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """The visible text of a page, its main content only where the page marks one."""
    parser = _Extractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.main if "".join(parser.main).strip() else parser.all)
    text = re.sub(r"(?m)^ (?=\S)", "", "\n".join(line.rstrip() for line in text.split("\n")))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"
