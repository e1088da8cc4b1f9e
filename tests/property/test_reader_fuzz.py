"""A bounded fuzz run of the readers (SPEC §3, §4 batch errors): random bytes, valid .csv and
.xlsx files with flipped, inserted and truncated bytes, workbooks whose XML parts are
damaged, and zip containers with odd members all go to ``read_batch``.

The only outcomes allowed: a SheetData that keeps its contract (and that the format step
takes without an exception), or a BatchError with a reader code of the closed list and a
one-line message naming the file. Any other exception fails; so does an example that runs
past its time bound (``support.time_bound``: a hang is reported, or ends the run).

The limits are small: every cap is reached by small files, and no damaged reference can ask
for a sheet of billions of cells at the default limits (which would only test the machine).
"""

from __future__ import annotations

import io
import struct
import warnings
import zipfile
from functools import cache
from pathlib import Path

import pandas as pd
from hypothesis import event, given, settings
from hypothesis import strategies as st

from rma.adapters.readers import read_batch
from rma.adapters.readers.messages import display_name
from rma.config import Limits
from rma.domain.vocabulary.columns import CANONICAL
from rma.domain.vocabulary.sheet import SheetData
from rma.errors import BatchError
from rma.service.batch import check_format
from tests.factories import generate_rows, write_csv, write_xlsx
from tests.property.support import READER_REASONS, SCRATCH, TODAY, examples, time_bound

FUZZ_LIMITS = (
    Limits(file_bytes=1 << 20, inflated_bytes=4 << 20, rows=2_000, columns=40,
           cell_chars=2_000),
    # just above the base files: a little growth from a mutation reaches a cap
    Limits(file_bytes=12_000, inflated_bytes=60_000, rows=6, columns=24, cell_chars=80),
)
SUFFIXES = (".csv", ".xlsx", ".xlsm", ".CSV", ".XLSX", ".xls", ".ods", ".txt", "", ".csv.xlsx")
TIME_BOUND = 15.0


# ----------------------------------------------------------------- base files


@cache
def base_files() -> dict[str, bytes]:
    """Valid claim files: csv (UTF-8 with BOM, cp1252 with ';'), xlsx (title rows, a second
    sheet, real dates)."""
    import datetime as dt
    import tempfile

    rows = generate_rows(4, bad_ratio=0.5, seed=7)
    rows[0]["installation_date"] = dt.date(2025, 3, 1)
    rows[1]["recipient_name"] = "Jürgen Groß"
    titles = [["Claims for March"], []]
    out = {}
    with tempfile.TemporaryDirectory(dir=SCRATCH) as tmp:
        folder = Path(tmp)
        out["utf8.csv"] = write_csv(folder / "a.csv", rows, bom=True,
                                    title_rows=titles).read_bytes()
        out["cp1252.csv"] = write_csv(folder / "b.csv", rows, delimiter=";",
                                      encoding="cp1252").read_bytes()
        out["claims.xlsx"] = write_xlsx(
            folder / "c.xlsx", rows, title_rows=titles,
            extra_sheets={"Help": [["Fill in one claim per row"]]}).read_bytes()
        out["plain.xlsx"] = write_xlsx(folder / "d.xlsx", rows[:2], sheet="Sheet1").read_bytes()
    return out


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def zipped(parts: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED,
           encrypted: frozenset[str] = frozenset()) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are the point
        with zipfile.ZipFile(buffer, "w", compression) as zf:
            for name, content in parts:
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                info.compress_type = compression
                if name in encrypted:
                    info.flag_bits |= 0x1  # says "encrypted", is not
                zf.writestr(info, content)
    return buffer.getvalue()


def lying_sizes(data: bytes, factor: int) -> bytes:
    """The archive with every declared uncompressed size divided by ``factor``."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = out.find(signature)
        while at != -1:
            (size,) = struct.unpack_from("<I", out, at + offset)
            struct.pack_into("<I", out, at + offset, size // factor)
            at = out.find(signature, at + 4)
    return bytes(out)


@cache
def bomb_member() -> bytes:
    return b"<x>" + b"0" * (8 << 20) + b"</x>"


# ----------------------------------------------------------------- mutations

SNIPPETS = (
    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>', b"&b;",
    b'<!DOCTYPE x SYSTEM "file:///etc/passwd">', b'<c r="XFD1048576"><v>1</v></c>',
    b'<c r="A0"><v>1</v></c>', b'<row r="0">', b'<row r="1048576"><c r="A1048576"><v>1</v></c>'
    b"</row>", b"<v>1e400</v>", b'<c r="C3" t="s"><v>99999</v></c>',
    b'<c r="D4" t="d"><v>not-a-date</v></c>', b"\xff\xfe\x00<", b"<![CDATA[", b"</sheetData>",
    b'<c r="B2" t="inlineStr"><is><t>' + b"x" * 5000 + b"</t></is></c>", b'<c r="AAAA1">',
    b'<c r="B2" t="e"><v>#REF!</v></c>', b'<c r="B2" t="b"><v>2</v></c>', b"<c><v>7</v></c>",
    b'<sheet name="Claims" sheetId="9" r:id="rId99"/>', b"\x00", b"\r\n", b'"', b";;;;", b",",
    b"\xef\xbb\xbf", b"\x80\x81\xfe", "Seriennummer,Störung\n".encode("utf-16"),
    b"sep=;\n", b"SN,Fault\nSN123456,broken\n", b'"unterminated', b"\n" * 50,
)

mutation = st.tuples(st.sampled_from(["flip", "insert", "delete", "truncate", "repeat",
                                      "snippet"]),
                     st.integers(min_value=0), st.binary(min_size=1, max_size=8),
                     st.sampled_from(SNIPPETS))


def mutate(data: bytes, steps: list[tuple[str, int, bytes, bytes]]) -> bytes:
    out = bytearray(data)
    for kind, where, noise, snippet in steps:
        at = where % (len(out) + 1)
        if kind == "flip" and out:
            at %= len(out)
            out[at] ^= noise[0] or 0xFF
        elif kind == "insert":
            out[at:at] = noise
        elif kind == "delete":
            del out[at:at + len(noise)]
        elif kind == "truncate":
            del out[at:]
        elif kind == "repeat":
            out[at:at] = out[at:at + 64] * 3
        else:
            out[at:at] = snippet
    return bytes(out)


# ----------------------------------------------------------------- hostile files

file_names = st.text(st.characters(codec="utf-8", exclude_characters="/\x00"), min_size=1,
                     max_size=20).filter(lambda s: s not in (".", ".."))


@st.composite
def random_files(draw) -> tuple[str, bytes]:
    magic = draw(st.sampled_from([b"", b"", b"PK\x03\x04", b"\xef\xbb\xbf", b"\xd0\xcf\x11\xe0",
                                  b"%PDF-1.7", b"PK\x05\x06" + b"\x00" * 18]))
    return draw(st.sampled_from(SUFFIXES)), magic + draw(st.binary(max_size=3000))


@st.composite
def mutated_files(draw) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(base_files())))
    data = mutate(base_files()[name], draw(st.lists(mutation, min_size=1, max_size=4)))
    return Path(name).suffix, data


@st.composite
def workbooks_with_damaged_parts(draw) -> tuple[str, bytes]:
    name = draw(st.sampled_from(["claims.xlsx", "plain.xlsx"]))
    parts = list(members(base_files()[name]).items())
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(parts) - 1))
        part, content = parts[at]
        parts[at] = (part, mutate(content, draw(st.lists(mutation, min_size=1, max_size=3))))
    compression = draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED]))
    return draw(st.sampled_from([".xlsx", ".xlsm"])), zipped(parts, compression)


ODD_NAMES = ("../../evil.xml", "/abs/xl/workbook.xml", "xl\\workbook.xml", "XL/WORKBOOK.XML",
             "xl/", "xl/worksheets/", "xl/wörkbook.xml", "mimetype", "xl/embeddings/inner.xlsx",
             "xl/media/image1.png", "xl/worksheets/sheet2.xml", "xl/sharedStrings.xml",
             "[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels")


@st.composite
def odd_zips(draw) -> tuple[str, bytes]:
    """Zip containers: members of a real workbook dropped, doubled, renamed or swapped for
    odd ones; encrypted flags, stored members, lying sizes, a bomb."""
    parts = list(members(base_files()["claims.xlsx"]).items())
    kept = draw(st.lists(st.sampled_from(parts), max_size=len(parts) + 2))
    for _ in range(draw(st.integers(0, 3))):
        odd = draw(st.sampled_from(ODD_NAMES))
        content = draw(st.one_of(
            st.sampled_from([content for _, content in parts]),
            st.binary(max_size=200),
            st.sampled_from([b"application/vnd.oasis.opendocument.spreadsheet",
                             base_files()["plain.xlsx"], b""])))
        kept.insert(draw(st.integers(0, len(kept))), (odd, content))
    if draw(st.integers(0, 5)) == 0:
        kept.append(("xl/worksheets/sheet9.xml", bomb_member()))
    encrypted = frozenset(draw(st.lists(st.sampled_from([n for n, _ in kept] or ["x"]),
                                        max_size=1)))
    data = zipped(kept, draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])),
                  encrypted)
    if draw(st.integers(0, 3)) == 0:
        data = lying_sizes(data, draw(st.sampled_from([2, 1000, 1 << 20])))
    return ".xlsx", data


# ----------------------------------------------------------------- the outcome


def read_as(folder: Path, stem: str, suffix: str, data: bytes, limits: Limits) -> None:
    path = folder / (stem + suffix)
    path.write_bytes(data)
    try:
        with time_bound(TIME_BOUND):
            sheet = read_batch(path, limits)
    except BatchError as exc:
        event(f"BatchError {exc.code}")
        assert exc.code in READER_REASONS, (exc.code, exc.message)
        assert display_name(path) in exc.message, f"{exc.message!r} does not name {path.name!r}"
        assert "\n" not in exc.message and "\r" not in exc.message, repr(exc.message)
        return
    event("SheetData")
    assert_sheet_contract(sheet, path, limits)


def assert_sheet_contract(sheet: SheetData, path: Path, limits: Limits) -> None:
    assert isinstance(sheet, SheetData)
    assert sheet.source == path and sheet.file_format in ("csv", "xlsx", "xlsm")
    sent = sheet.sent
    rows = list(sent.index)
    assert 0 < len(rows) <= limits.rows
    assert pd.api.types.is_integer_dtype(sent.index)
    assert rows == sorted(set(rows)) and rows[0] > sheet.header_row >= 1, (rows, sheet.header_row)
    assert sent.columns.is_unique and len(sent.columns) <= limits.columns
    assert set(sheet.columns) <= set(sent.columns)
    assert set(sheet.columns.values()) <= set(CANONICAL)
    assert len(set(sheet.columns.values())) == len(sheet.columns)
    assert set(sheet.unknown_columns) <= set(sent.columns)
    assert "serial_number" in sheet.columns.values()
    values = sent.to_numpy().ravel()
    assert all(v is None or v != "" for v in values), "a blank cell that is not None"
    assert all(len(v) <= limits.cell_chars for v in values if isinstance(v, str))
    assert not sent.isna().all(axis=1).any(), "an entirely blank row was kept"
    with time_bound(TIME_BOUND):
        normalised, issues = check_format(sheet, TODAY)
    assert list(normalised.index) == rows
    assert set(issues["row"].astype(int)) <= set(rows) | {sheet.header_row}


def fuzz(stem: str, suffix: str, data: bytes, small: bool) -> None:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="rma-fuzz-", dir=SCRATCH) as tmp:
        read_as(Path(tmp), stem, suffix, data, FUZZ_LIMITS[small])


@settings(max_examples=examples(4))  # about a millisecond each
@given(file=random_files(), stem=file_names, small=st.booleans())
def test_random_bytes_are_read_or_refused_with_a_batch_error(file, stem, small):
    fuzz(stem, *file, small)


@settings(max_examples=examples(2))  # most end in a few milliseconds
@given(file=mutated_files(), small=st.booleans())
def test_damaged_csv_and_xlsx_files_are_read_or_refused_with_a_batch_error(file, small):
    fuzz("claims", *file, small)


@settings(max_examples=examples(2))  # most end in a few milliseconds
@given(file=workbooks_with_damaged_parts(), small=st.booleans())
def test_workbooks_with_damaged_xml_are_read_or_refused_with_a_batch_error(file, small):
    fuzz("claims", *file, small)


@settings(max_examples=examples(2))  # most end in a few milliseconds
@given(file=odd_zips(), small=st.booleans())
def test_zip_containers_with_odd_members_are_read_or_refused_with_a_batch_error(file, small):
    fuzz("claims", *file, small)
