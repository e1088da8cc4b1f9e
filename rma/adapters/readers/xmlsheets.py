"""Which worksheet part each sheet name reads, from ``xl/workbook.xml`` and its relationships,
resolved as calamine resolves them (``limits.check_zip`` holds only that part to the limits)."""

from __future__ import annotations

import re

from rma.adapters.readers.xmlexact import attribute
from rma.adapters.readers.xmlscan import normalised

_SHEET_TAG = re.compile(rb"<(?:[^\s/>:\"']+:)?sheet(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_RELATIONSHIP_TAG = re.compile(
    rb"<(?:[^\s/>:\"']+:)?Relationship(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_ENTITY_REF = re.compile(r"&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|(lt|gt|amp|apos|quot));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "apos": "'", "quot": '"'}


def _unescape(value: bytes) -> str:
    def one(match: re.Match[str]) -> str:
        if match.group(3):
            return _NAMED[match.group(3)]
        return chr(int(match.group(1), 16) if match.group(1) else int(match.group(2)))

    return _ENTITY_REF.sub(one, value.decode("utf-8", "replace"))


def sheet_parts(workbook_xml: bytes, relationships_xml: bytes) -> dict[str, str] | None:
    """Sheet name -> normalised part name, resolved as calamine resolves them; None when that
    is not certain (a name or relationship twice, maybe once in a comment): then every
    worksheet part is held against the limits."""
    targets: dict[bytes, str] = {}
    for tag in _RELATIONSHIP_TAG.finditer(relationships_xml):
        rel_id, target = attribute(tag.group(1), b"Id"), attribute(tag.group(1), b"Target")
        if rel_id is None or target is None:
            continue
        if rel_id in targets:
            return None
        targets[rel_id] = target.decode("utf-8", "replace")
    parts: dict[str, str] = {}
    for tag in _SHEET_TAG.finditer(workbook_xml):
        ids = [attribute(tag.group(1), key) for key in (b"r:id", b"relationships:id")]
        name = attribute(tag.group(1), b"name")
        if name is None or ids.count(None) != 1:
            return None
        part = targets.get(next(i for i in ids if i is not None))
        try:
            name_text = _unescape(name)
        except (ValueError, OverflowError):  # a character reference out of range
            return None
        if part is None or name_text in parts:
            return None
        if part.startswith("/xl/"):
            part = part[1:]
        elif not part.startswith("xl/"):
            part = "xl/" + part
        parts[name_text] = normalised(part)
    return parts
