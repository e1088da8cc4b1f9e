"""rma.adapters.readers.xmlscan: the extent of a worksheet as calamine would lay it out, from its
bytes, whichever way they are split into chunks."""

from __future__ import annotations

import pytest

from rma.adapters.readers.xmlexact import ExactSheetScan
from rma.adapters.readers.xmlscan import (
    BAD_REFERENCE,
    ENTITIES,
    NESTED,
    Extent,
    FastSheetScan,
    XmlGuard,
)
from rma.adapters.readers.xmlsheets import sheet_parts

HEAD = b'<?xml version="1.0"?><worksheet xmlns="m"><sheetData>'
TAIL = b"</sheetData></worksheet>"


def _sheet(body: str) -> bytes:
    return HEAD + body.encode() + TAIL


def _fast(data: bytes, size: int) -> Extent | None:
    scan = FastSheetScan()
    for start in range(0, len(data), size):
        scan.feed(data[start:start + size])
    return scan.result()


def _exact(data: bytes, size: int) -> Extent:
    scan = ExactSheetScan()
    for start in range(0, len(data), size):
        scan.feed(data[start:start + size])
    return scan.result()


CASES = {
    "excel": ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="V1"><v>1</v></c></row>'
              '<row r="7" spans="1:3"><c r="C7"><v>2</v></c></row>', Extent(7, 22), True),
    "a far styled cell": ('<row r="1"><c r="A1"><v>1</v></c></row>'
                          '<row r="900"><c r="AB900" s="3"/></row>', Extent(900, 28), True),
    "a cell beyond its row tag": ('<row r="2"><c r="A2"><v>1</v></c><c r="XFD1048576">'
                                  "<v>1</v></c></row>", Extent(1048576, 16384), True),
    "a prefix and attributes before r": (
        '<x:row r="3"><x:c s="1" r="B3" t="s"><x:v>1</x:v></x:c></x:row>', Extent(3, 2), True),
    "no references": ("<row><c><v>1</v></c><c><v>2</v></c></row><row/><row>"
                      "<c><v>3</v></c><c/><c><v>5</v></c></row>", Extent(3, 3), False),
    "a row reference and sequential cells": (
        '<row r="10"><c><v>1</v></c><c r="E10"><v>2</v></c><c><v>3</v></c></row>'
        "<row><c><v>4</v></c></row>", Extent(11, 6), False),
    "comments and quotes": ('<!-- <c r="ZZ99999"> --><row r="2" x=">"><c r="B2" y=\'>\'>'
                            "<v>1</v></c></row>", Extent(2, 2), False),
}


@pytest.mark.parametrize("size", [1, 7, 64, 1 << 20])
@pytest.mark.parametrize("name", list(CASES))
def test_the_extent_is_the_same_whatever_the_chunks(name, size):
    body, extent, fast = CASES[name]
    data = _sheet(body)
    assert _exact(data, size) == extent
    found = _fast(data, size)
    if fast:
        assert found == extent
    else:  # irregular: the exact scan decides; counted at all, the fast one must not be lower
        assert found is None or (found.rows >= extent.rows and found.columns >= extent.columns)


def test_a_comment_cannot_hide_a_row_from_the_exact_scan_nor_lower_it():
    data = _sheet('<row r="5"><c><v>1</v></c></row><!-- <row r="1"> --><row><c><v>1</v></c></row>')
    assert _exact(data, 5) == Extent(6, 1)


@pytest.mark.parametrize(("body", "problem"), [
    ('<row r="1"><c r="A0"><v>1</v></c></row>', BAD_REFERENCE.format(ref="A0")),
    ('<row r="0"><c><v>1</v></c></row>', BAD_REFERENCE.format(ref="0")),
    ('<row r="1"><c r="A1"><is><t>x</t></c><row r="1"></row></is></c></row>', None),
    ('<row r="1"><c r="A1"><v><c r="B1"/></v></c></row>', NESTED),
])
def test_what_the_exact_scan_cannot_follow_is_refused(body, problem):
    found = _exact(_sheet(body), 3)
    if problem is None:
        assert found.problem is not None  # tags that do not nest: damaged
    else:
        assert found.problem == problem


@pytest.mark.parametrize("prolog", [b"<!DOCTYPE x>", b"<!doctype x>", b'<!ENTITY e "x">'])
@pytest.mark.parametrize("size", [1, 3, 1 << 20])
def test_a_doctype_is_found_across_chunks(prolog, size):
    data = b'<?xml version="1.0"?>' + prolog + b"<worksheet/>"
    guard = XmlGuard()
    for start in range(0, len(data), size):
        guard.feed(data[start:start + size])
    assert guard.problem == ENTITIES


def test_sheet_names_map_to_parts_as_calamine_resolves_them():
    workbook = (b'<workbook xmlns:r="x"><sheets><sheet name="A &amp; B" sheetId="1" r:id="rId1"/>'
                b'<sheet name="x&#10;y" sheetId="2" r:id="rId2"/>'
                b'<sheet name="C" sheetId="3" r:id="rId3"/></sheets></workbook>')
    rels = (b'<Relationships><Relationship Id="rId1" Target="worksheets/Sheet1.xml"/>'
            b'<Relationship Id="rId2" Target="/xl/worksheets/s2.xml"/>'
            b'<Relationship Id="rId3" Target="xl/worksheets/s3.xml"/></Relationships>')
    assert sheet_parts(workbook, rels) == {"A & B": "xl/worksheets/sheet1.xml",
                                           "x\ny": "xl/worksheets/s2.xml",
                                           "C": "xl/worksheets/s3.xml"}


@pytest.mark.parametrize("size", [1, 5, 17, 64, 1 << 20])
def test_merged_ranges_are_counted_however_the_part_is_cut_into_chunks(size):
    from rma.adapters.readers.xmlscan import MergeCount

    data = _sheet("") + (b"<mergeCells count=\"3\"><mergeCell ref=\"A2:A3\"/>"
                         b"<x:mergeCell ref=\"B2:B3\"></x:mergeCell><mergeCell\nref=\"C2:C3\"/>"
                         b"<mergeCellsX/><mergeCells/></mergeCells>")
    count = MergeCount()
    for start in range(0, len(data), size):
        count.feed(data[start:start + size])
    assert count.result() == 3
