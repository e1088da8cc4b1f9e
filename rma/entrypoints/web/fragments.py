"""``{% cache key %} … {% endcache %}``: a part of a page rendered once per process and key
(the review page's table of up to 200 rejected rows × every column is ~850 kB and ~100 ms
to render; the same batch's table is the same). A key of None renders every time. The key
must name everything the part shows; the part must hold nothing of the visitor (no CSRF
token). The Jinja documentation's fragment cache, on ``rma.service.lookup.Recent``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import nodes
from jinja2.environment import Environment
from jinja2.ext import Extension
from jinja2.parser import Parser
from markupsafe import Markup

from rma.service.lookup import Recent

#: how many rendered parts a process keeps
FRAGMENTS_KEPT = 8


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
