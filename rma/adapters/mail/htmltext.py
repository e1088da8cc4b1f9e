"""An HTML mail body as the plain text the form reader expects.

Block elements and ``<br>`` become line breaks, ``<blockquote>`` content becomes ``> `` quoted
lines (which the form reader skips), ``<pre>`` keeps its lines, the cells of a table row stay
apart on one line, scripts and styles are dropped and entities unescaped. Broken HTML keeps the
text read so far: this never raises.
"""

from __future__ import annotations

import contextlib
from html.parser import HTMLParser

_BLOCK = {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
          "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
          "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table",
          "tbody", "thead", "tfoot", "tr", "ul", "title"}
_SKIP = {"script", "style", "head", "template", "noscript"}
_CELL = {"td", "th"}


class _HtmlText(HTMLParser):
    """Collects text per block with the blockquote depth it started at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self._buffer: list[str] = []
        self._has_text = False  # whether the buffer holds more than whitespace
        self._depth_at_start = 0
        self.quote = 0
        self.skip = 0
        self.pre = 0
        self._cells = 0

    def _flush(self) -> None:
        text = "".join(self._buffer)
        self._buffer = []
        self._has_text = False
        self._cells = 0
        if self.pre:
            for line in text.split("\n"):
                self.lines.append((self._depth_at_start, line.rstrip()))
        else:
            self.lines.append((self._depth_at_start, " ".join(text.split())))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag in _BLOCK:
            self._flush()
            if tag == "blockquote":
                self.quote += 1
            if tag == "pre":
                self.pre += 1
        elif tag in _CELL:
            if self._cells:
                self._buffer.append(" \t ")
            self._cells += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            self._flush()
            if tag == "blockquote":
                self.quote = max(0, self.quote - 1)
            if tag == "pre":
                self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        # a flag, not a look at the joined buffer: that would be quadratic in the number of
        # inline elements of one block
        if not self._has_text:
            self._depth_at_start = self.quote
        data = data.replace("\xa0", " ")
        self._buffer.append(data)
        self._has_text = self._has_text or bool(data.strip())

    def text(self) -> str:
        self._flush()
        out: list[str] = []
        for depth, line in self.lines:
            if not line.strip():
                continue  # empty blocks; blank lines mean nothing to the form reader
            out.append("> " * depth + line)
        return "\n".join(out).strip("\n") + ("\n" if out else "")


def html_to_text(html: str) -> str:
    """HTML as plain text: blocks and ``<br>`` are line breaks, blockquotes ``> `` quotes."""
    parser = _HtmlText()
    with contextlib.suppress(Exception):  # broken HTML: keep the text read so far
        parser.feed(html)
        parser.close()
    return parser.text()
