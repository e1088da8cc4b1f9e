"""Test data builders: claim rows, and real .xlsx/.csv files written from them."""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import itertools
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
from openpyxl import Workbook

from rma.domain.vocabulary.columns import CANONICAL, canonical_name

Row = Mapping[str, object] | Sequence[object]

_FIRST = ("Anna", "Jonas", "Lea", "Lukas", "Marie", "Felix", "Sophie", "Paul", "Emma", "Jan")
_LAST = ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
         "Hoffmann", "Koch")
_STREETS = ("Hauptstraße", "Gartenweg", "Bahnhofstraße", "Lindenallee", "Schulstraße",
            "Industriestraße", "Am Markt", "Bergstraße")
_CITIES = (("Berlin", "10115", "30"), ("Hamburg", "20095", "40"), ("München", "80331", "89"),
           ("Köln", "50667", "221"), ("Frankfurt am Main", "60311", "69"),
           ("Leipzig", "04109", "341"), ("Dresden", "01067", "351"), ("Stuttgart", "70173", "711"))
_COMPANIES = ("Sonnenstrom GmbH", "Solar Schmidt KG", "EnergieTech AG", "PV Service Nord",
              None, None)
_MODELS = ("SUN2000-10KTL", "LUNA2000-5", "SUN2000-6KTL", "BAT-7.7", "INV-3600TL")
_FAULTS = ("Inverter shows error and stops feeding in", "No display after thunderstorm",
           "Battery does not charge above 20 %", "Fan noise and overheating warning",
           "Grid relay clicks repeatedly, no output")
_ERRORS = ("IE 01", "E 2031", None, "W-17", None)
_BAD_KINDS = ("serial_number", "recipient_email", "fault_date", "recipient_name",
              "recipient_country", "fault_description")
_BAD_VALUES: dict[str, object] = {
    "recipient_email": "anna.mueller(at)example",
    "fault_date": "31.02.2025",
    "recipient_name": None,
    "recipient_country": "Atlantis",
    "fault_description": "bad",
}

_counter = itertools.count(1)


def valid_claim(**overrides: object) -> dict[str, object]:
    """One valid claim row keyed by canonical column; each call gets a new SN and claim_ref."""
    n = next(_counter)
    row: dict[str, object] = {
        "claim_ref": f"C-{n}",
        "account_id": None,
        "rma_code": None,
        "serial_number": f"SN{100000 + n}",
        "product_model": "SUN2000-10KTL",
        "fault_description": "Inverter shows error IE 01 and stops feeding in",
        "error_code": "IE 01",
        "installation_date": "2025-03-01",
        "fault_date": "2025-09-15",
        "recipient_name": "Anna Müller",
        "recipient_company": "Sonnenstrom GmbH",
        "recipient_phone": "+49 30 1234567",
        "recipient_email": "anna.mueller@example.com",
        "recipient_address": "Hauptstraße 12",
        "recipient_city": "Berlin",
        "recipient_postcode": "10115",
        "recipient_country": "DE",
        "site_address": "Gartenweg 3",
        "site_city": "Potsdam",
        "site_postcode": "14467",
        "site_country": "DE",
        "notes": None,
    }
    unknown = set(overrides) - set(row)
    if unknown:
        raise KeyError(f"not canonical columns: {sorted(unknown)}")
    row.update(overrides)
    return row


def generate_rows(n: int, *, bad_ratio: float = 0.1, seed: int = 0) -> list[dict[str, object]]:
    """``n`` claim rows with distinct SNs; about ``bad_ratio`` of them broken in varied ways.

    Deterministic by ``seed``. Columns are built whole with numpy, then zipped into dicts, so
    a million rows take seconds.
    """
    rng = np.random.default_rng(seed)

    def pick(options: Sequence[object], index: np.ndarray | None = None) -> np.ndarray:
        if index is None:
            index = rng.integers(0, len(options), n)
        return _objects(options)[index]

    people = [(f, last) for f in _FIRST for last in _LAST]
    person = rng.integers(0, len(people), n)
    city, site = rng.integers(0, len(_CITIES), n), rng.integers(0, len(_CITIES), n)
    days = [str(np.datetime64("2023-01-01") + d) for d in range(900)]
    install = rng.integers(0, 700, n)
    fault = install + rng.integers(1, 200, n)
    streets = [f"{street} {number}" for street in _STREETS for number in range(1, 120)]
    base = seed * 10_000_000
    columns: dict[str, np.ndarray] = {
        "claim_ref": _objects([f"C-{i}" for i in range(n)]),
        "account_id": np.full(n, None, dtype=object),
        "rma_code": np.full(n, None, dtype=object),
        "serial_number": _objects([f"SN{base + i:010d}" for i in range(n)]),
        "product_model": pick(_MODELS),
        "fault_description": pick(_FAULTS),
        "error_code": pick(_ERRORS),
        "installation_date": pick(days, install),
        "fault_date": pick(days, fault),
        "recipient_name": pick([f"{f} {last}" for f, last in people], person),
        "recipient_company": pick(_COMPANIES),
        "recipient_phone": _objects([f"+49 {_CITIES[c][2]} {t}" for c, t in
                                     zip(city.tolist(), rng.integers(1_000_000, 9_999_999, n)
                                         .tolist(), strict=True)]),
        "recipient_email": pick([f"{f}.{last}@example.com".lower() for f, last in people],
                                person),
        "recipient_address": pick(streets),
        "recipient_city": pick([c[0] for c in _CITIES], city),
        "recipient_postcode": pick([c[1] for c in _CITIES], city),
        "recipient_country": np.full(n, "DE", dtype=object),
        "site_address": pick(streets),
        "site_city": pick([c[0] for c in _CITIES], site),
        "site_postcode": pick([c[1] for c in _CITIES], site),
        "site_country": np.full(n, "DE", dtype=object),
        "notes": np.full(n, None, dtype=object),
    }
    bad = np.flatnonzero(rng.random(n) < bad_ratio)
    kinds = rng.integers(0, len(_BAD_KINDS), len(bad))
    for k, column in enumerate(_BAD_KINDS):
        where = bad[kinds == k]
        if column == "serial_number":
            columns[column][where] = _objects([f"S#{i}" for i in where.tolist()])
        else:
            columns[column][where] = _BAD_VALUES[column]
    keys = list(CANONICAL)
    collecting = gc.isenabled()
    gc.disable()  # a million small dicts otherwise trigger many useless collections
    try:
        return [dict(zip(keys, values, strict=True))
                for values in zip(*(columns[k].tolist() for k in keys), strict=True)]
    finally:
        if collecting:
            gc.enable()


def _objects(values: Sequence[object]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _table(rows: Sequence[Row], headers: Sequence[str] | None) -> list[list[object]]:
    """Header row (if any) plus value rows; dict rows are looked up by header or its alias."""
    if rows and isinstance(rows[0], Mapping):
        names = list(headers) if headers is not None else list(rows[0])
        keys = [h if h in rows[0] else (canonical_name(h) or h) for h in names]
        body = [[row.get(k) for k in keys] for row in rows]  # type: ignore[union-attr]
        return [names, *body]
    body = [list(row) for row in rows]  # type: ignore[arg-type]
    return [list(headers), *body] if headers is not None else body


def write_xlsx(
    path: Path | str,
    rows: Sequence[Row],
    *,
    sheet: str = "Claims",
    headers: Sequence[str] | None = None,
    title_rows: Sequence[Sequence[object]] | None = None,
    extra_sheets: Mapping[str, Sequence[Sequence[object]]] | None = None,
) -> Path:
    """Write rows to an .xlsx (openpyxl, write-only); the claim sheet first, extras after it.

    Dict rows use their keys as headers unless ``headers`` is given; a header that is an alias
    (``SN``, ``E-Mail``) takes its value from the canonical key. List rows are written as they
    are, under ``headers`` if given. ``title_rows`` go above the header. date/datetime values
    become real Excel dates.
    """
    path = Path(path)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    for row in [*(title_rows or []), *_table(rows, headers)]:
        ws.append(list(row))
    for name, extra in (extra_sheets or {}).items():
        other = wb.create_sheet(name)
        for row in extra:
            other.append(list(row))
    wb.save(path)
    return path


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def write_csv(
    path: Path | str,
    rows: Sequence[Row],
    *,
    headers: Sequence[str] | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8",
    bom: bool = False,
    title_rows: Iterable[Sequence[object]] | None = None,
) -> Path:
    """Write rows to a .csv in the given encoding (with a UTF-8 BOM if ``bom``); None is ''."""
    path = Path(path)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in [*(title_rows or []), *_table(rows, headers)]:
        writer.writerow([_text(v) for v in row])
    data = buffer.getvalue().encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    path.write_bytes(data)
    return path
