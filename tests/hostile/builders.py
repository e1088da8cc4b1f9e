"""Hostile files, built byte by byte: workbooks whose zip and XML parts are hand-written, zip
bombs whose deflate stream is assembled from one repeated block, and odd CSV files."""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WORKSHEET = DOC_RELS + "/worksheet"
DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

#: A header every reader recognises and one claim row under it.
HEADER = ("Serial number", "Fault description", "Recipient name", "Recipient country")
CLAIM = ("SN100001", "Inverter shows error IE 01 and stops", "Anna Müller", "DE")
SECRET_FILE_TEXT = "hostile-xxe-secret-4f1c9e"


def column(number: int) -> str:
    """1 -> A, 27 -> AA, 16384 -> XFD, 20000 -> ACOF."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell(ref: str | None, text: str) -> str:
    position = f' r="{ref}"' if ref else ""
    return f'<c{position} t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def row(number: int | None, values: Sequence[str], first_column: int = 1,
        refs: bool = True) -> str:
    cells = "".join(cell(f"{column(first_column + i)}{number}" if refs and number else None,
                         value) for i, value in enumerate(values))
    position = f' r="{number}"' if number else ""
    return f"<row{position}>{cells}</row>"


def sheet_xml(rows: Sequence[str] | str, prolog: str = "") -> str:
    body = rows if isinstance(rows, str) else "".join(rows)
    return (f"{DECLARATION}{prolog}<worksheet xmlns=\"{MAIN}\"><sheetData>{body}"
            "</sheetData></worksheet>")


def claims_sheet() -> str:
    return sheet_xml([row(1, HEADER), row(2, CLAIM)])


def workbook_parts(sheets: Sequence[tuple[str, str]], workbook_prolog: str = ""
                   ) -> dict[str, bytes]:
    """The parts of a minimal xlsx: ``sheets`` are (name, worksheet XML), in order."""
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1))
    entries = "".join(f"<sheet name={quoteattr(name)} sheetId=\"{i}\" r:id=\"rId{i}\"/>"
                      for i, (name, _) in enumerate(sheets, start=1))
    links = "".join(f'<Relationship Id="rId{i}" Type="{WORKSHEET}" '
                    f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, len(sheets) + 1))
    parts = {
        "[Content_Types].xml": (
            f'{DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.'
            'openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
            f'main+xml"/>{overrides}</Types>'),
        "_rels/.rels": (f'{DECLARATION}<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
                        f'Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/>'
                        "</Relationships>"),
        "xl/workbook.xml": (f'{DECLARATION}{workbook_prolog}<workbook xmlns="{MAIN}" '
                            f'xmlns:r="{DOC_RELS}"><sheets>{entries}</sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (f'{DECLARATION}<Relationships xmlns="{RELS}">{links}'
                                       "</Relationships>"),
    }
    encoded = {name: text.encode("utf-8") for name, text in parts.items()}
    for i, (_, xml) in enumerate(sheets, start=1):
        encoded[f"xl/worksheets/sheet{i}.xml"] = xml.encode("utf-8") if isinstance(xml, str) \
            else xml
    return encoded


def write_zip(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def write_workbook(path: Path, sheets: Sequence[tuple[str, str]] | None = None,
                   extra: dict[str, bytes] | None = None, workbook_prolog: str = "") -> Path:
    parts = workbook_parts(sheets or [("Claims", claims_sheet())], workbook_prolog)
    parts.update(extra or {})
    return write_zip(path, parts)


# -- entities ----------------------------------------------------------------------------------


def billion_laughs(levels: int = 10) -> tuple[str, str]:
    """A DOCTYPE whose last entity expands to 10**levels 'lol's, and a reference to it."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels)]
    return f"<!DOCTYPE lolz [{''.join(entities)}]>", f"&lol{levels - 1};"


def external_entity(secret: Path, parameter: bool = False) -> tuple[str, str]:
    """A DOCTYPE naming a local file (XXE), and a reference to it."""
    if parameter:
        return (f'<!DOCTYPE w [<!ENTITY % ext SYSTEM "file://{secret}"> %ext;]>', "")
    return f'<!DOCTYPE w [<!ENTITY xxe SYSTEM "file://{secret}">]>', "&xxe;"


def sheet_with_entity(prolog: str, reference: str) -> str:
    # the reference sits in a claim cell, where an expanding parser would put the content
    claim = f'<c r="B2" t="inlineStr"><is><t>{reference}</t></is></c>'
    return sheet_xml([row(1, HEADER), f'<row r="2">{cell("A2", CLAIM[0])}{claim}</row>'],
                     prolog=prolog)


# -- zip bombs ---------------------------------------------------------------------------------


def _deflated_repeats(prefix: bytes, block: bytes, repeats: int, suffix: bytes
                      ) -> tuple[bytes, int, int]:
    """A raw deflate stream of prefix + block * repeats + suffix, the block compressed once.

    After a full flush the compressor starts afresh, so the same block compresses to the
    same bytes every time: gigabytes are one segment repeated. Returns (stream, crc, size).
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    segment = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert segment == again, "the repeated block must deflate to the same bytes"
    tail = compressor.compress(suffix) + compressor.flush(zlib.Z_FINISH)
    crc = zlib.crc32(prefix)
    for _ in range(repeats):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(suffix, crc)
    stream = head + segment * repeats + tail
    return stream, crc, len(prefix) + len(block) * repeats + len(suffix)



def write_raw_zip(path: Path, entries: Sequence[tuple[str, bytes, int, int, int]]) -> Path:
    """A zip written field by field. ``entries``: (name, payload, method, crc, declared size)
    with payload already compressed; the declared size goes into both headers as given."""
    out = bytearray()
    central = bytearray()
    for name, payload, method, crc, declared in entries:
        encoded = name.encode()
        offset = len(out)
        out += struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc,
                           len(payload), declared, len(encoded), 0) + encoded + payload
        central += struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21, crc,
                               len(payload), declared, len(encoded), 0, 0, 0, 0, 0,
                               offset) + encoded
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                      len(central), len(out), 0)
    path.write_bytes(bytes(out + central + end))
    return path


def write_zip_bomb(path: Path, inflated_bytes: int, declare: int | None = None) -> Path:
    """An xlsx whose worksheet unpacks to about ``inflated_bytes`` of real rows (a header, then
    the same row again and again) from a file of a few MB. ``declare``: the size its zip
    headers claim for that worksheet (a lie); None: the true size."""
    # rows of one long cell (under the cell limit): a run of one letter deflates ~1000:1
    block_row = row(None, [CLAIM[0], "x" * 30_000], refs=False).encode()
    block = block_row * (1024 * 1024 // len(block_row))
    prefix = (DECLARATION + f'<worksheet xmlns="{MAIN}"><sheetData>' + row(1, HEADER)).encode()
    suffix = b"</sheetData></worksheet>"
    stream, crc, size = _deflated_repeats(prefix, block, max(1, inflated_bytes // len(block)),
                                          suffix)
    entries = []
    for name, data in workbook_parts([("Claims", "")]).items():
        if name == "xl/worksheets/sheet1.xml":
            entries.append((name, stream, zipfile.ZIP_DEFLATED, crc,
                            size if declare is None else declare))
        else:
            compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
            packed = compressor.compress(data) + compressor.flush()
            entries.append((name, packed, zipfile.ZIP_DEFLATED, zlib.crc32(data), len(data)))
    return write_raw_zip(path, entries)
