"""``{% cache key %} … {% endcache %}``: a part of a page rendered once per process and key
(the review page's 200 rejected rows × every column are ~850 kB and ~100 ms to render; a
batch's row is the same at every view, and a re-check changes only the rows it re-checked).
A key of None renders every time. The key must name everything the part shows; the part
must hold nothing of the visitor (no CSRF token). The Jinja documentation's fragment
cache, on ``rma.service.lookup.Recent``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import nodes
from jinja2.environment import Environment
from jinja2.ext import Extension
from jinja2.parser import Parser
from markupsafe import Markup

from rma.service.lookup import Recent

#: how many rendered parts a process keeps: the rows of the review pages of ~10 batches
#: (a row is ~4 kB)
FRAGMENTS_KEPT = 2000


class FragmentCache(Extension):
    tags = {"cache"}

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.fragments = Recent(FRAGMENTS_KEPT)

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        key = parser.parse_expression()
        body = parser.parse_statements(("name:endcache",), drop_needle=True)
        return nodes.CallBlock(self.call_method("_cached", [key]), [], [], body
                               ).set_lineno(lineno)

    def _cached(self, key: Any, caller: Callable[[], Markup]) -> Markup:
        if key is None:
            return caller()
        fragment: Markup = self.fragments.get(key, caller)
        return fragment
