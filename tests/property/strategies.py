"""Hypothesis strategies for hostile claim input.

* ``cells()``: anything a spreadsheet cell can hold — unicode and control characters,
  formula-looking text, numbers, real dates and times, blanks.
* ``dates()`` and ``serial_lists()``: tagged cases (what the cell holds and what it means),
  so a test can say which must be accepted.
* ``claim_rows()`` / ``batches()``: rows of the canonical columns, mostly valid, with
  targeted corruptions, so both accepted and rejected claims occur, with claim_refs shared
  between rows and RMA codes of every kind.
* ``form_claims()`` / ``mail_noise()``: e-mail body forms rendered from known values, and
  text that only looks like one.

``for_file(value, fmt)`` narrows a cell to what a .csv/.xlsx file can carry at all (no NUL
in a text file, no XML-illegal character or NaN in a workbook).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from rma.adapters.mail.labels import MAIL_HEADER_LABELS
from rma.adapters.reports.escape import FORMULA_PREFIXES
from rma.domain.vocabulary.columns import (
    CANONICAL,
    LABELS,
    MAX_LENGTH,
    REQUIRED_AFTER_PREFILL,
    canonical_name,
    header_key,
)
from rma.domain.vocabulary.sheet import SheetData
from tests import rules
from tests.property.support import CODE_TEXTS, OPEN_SERIAL, ORIGINS, POSTED_REF, TODAY

# ------------------------------------------------------------------ cells

BLANKS = (None, "", " ", "   ", "\t", "\u3000", "\xa0")
FORMULAS = ('=HYPERLINK("http://evil.example","click")', "=1+1", "@SUM(A1:A9)",
            "+cmd|' /C calc'!A0", "-2+3", "=cmd|' /C notepad'!'A1'", "\t=1", "＝1+1")

blanks = st.sampled_from(BLANKS)
control_text = st.lists(st.one_of(st.characters(categories=["Cc"]),
                                  st.characters(categories=["L", "N", "Zs"])),
                        min_size=1, max_size=20).map("".join)
formula_text = st.one_of(
    st.sampled_from(FORMULAS),
    st.builds(lambda prefix, rest: prefix + rest, st.sampled_from(FORMULA_PREFIXES),
              st.text(max_size=20)))
numbers = st.one_of(
    st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans())
real_dates = st.one_of(
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 31)),
    st.times())


def cells() -> st.SearchStrategy[object]:
    """Any cell value a reader can hand on."""
    return st.one_of(st.text(max_size=40), control_text, formula_text, numbers, real_dates,
                     blanks, st.text(min_size=190, max_size=260).filter(str.strip))


_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def for_file(value: object, fmt: str) -> object:
    """``value`` as a .csv or .xlsx file can carry it.

    A csv holds text only (a NUL byte makes the whole file unreadable by design, which the
    reader fuzz covers); a workbook cannot store XML-illegal characters, NaN, infinities or
    integers Excel cannot keep exactly.
    """
    if fmt == "csv":
        if isinstance(value, str):
            return value.replace("\x00", "")
        return value
    if isinstance(value, str):
        return _XML_ILLEGAL.sub("", value)
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        return str(value)
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0)
    return value


# ------------------------------------------------------------------ dates


@dataclass(frozen=True)
class DateCase:
    """A date cell and the day it means: ``day`` None when it is no date at all;
    ``valid`` when the format step must take it (a real, unambiguous day, not in the future);
    ``valid`` None for old days that no Excel holds (either outcome is fine)."""

    value: object
    day: dt.date | None
    valid: bool | None
    kind: str


def _iso(day: dt.date, padded: bool, tail: str) -> str:
    if padded:
        return day.isoformat() + tail
    return f"{day.year}-{day.month}-{day.day}{tail}"


def _dotted(day: dt.date, padded: bool) -> str:
    if padded:
        return f"{day.day:02d}.{day.month:02d}.{day.year}"
    return f"{day.day}.{day.month}.{day.year}"


past_days = st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY)
future_days = st.dates(min_value=TODAY + dt.timedelta(days=1), max_value=dt.date(9999, 12, 31))


@st.composite
def dates(draw) -> DateCase:
    """ISO, DD.MM.YYYY and real Excel dates (past and future), ambiguous, impossible and
    two-digit-year dates, and text that is no date."""
    kind = draw(st.sampled_from(["iso", "dotted", "excel", "future", "ambiguous",
                                 "impossible", "short_year", "garbage", "old"]))
    if kind in ("iso", "dotted", "excel", "future"):
        day = draw(future_days if kind == "future" else past_days)
        form = draw(st.sampled_from(["iso", "dotted", "excel"]) if kind == "future"
                    else st.just(kind))
        if form == "iso":
            value: object = _iso(day, draw(st.booleans()),
                                 draw(st.sampled_from(["", "", " 00:00:00", "T00:00"])))
        elif form == "dotted":
            value = _dotted(day, draw(st.booleans()))
        elif draw(st.booleans()):
            value = day
        else:
            value = dt.datetime.combine(day, draw(st.times()))
        return DateCase(value, day, kind != "future", kind)
    if kind == "old":
        day = draw(st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(1899, 12, 31)))
        return DateCase(draw(st.sampled_from([day.isoformat(), _dotted(day, True)])), day,
                        None, kind)
    if kind == "ambiguous":
        day = draw(past_days)
        first, second = (day.day, day.month) if draw(st.booleans()) else (day.month, day.day)
        year = day.year if draw(st.booleans()) else day.year % 100
        sep = draw(st.sampled_from(["/", "/", "-"]))
        return DateCase(f"{first:02d}{sep}{second:02d}{sep}{year}", None, False, kind)
    if kind == "impossible":
        text = draw(st.one_of(
            st.sampled_from(["2025-02-30", "31.02.2025", "2025-13-01", "00.01.2025",
                             "2025-00-10", "29.02.2025", "2023-02-29", "31.04.2024",
                             "0000-01-01", "32.01.2024", "2024-1-32"]),
            st.builds(lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
                      st.integers(1900, 2100), st.integers(13, 99), st.integers(1, 28)),
            st.builds(lambda y, m, d: f"{d:02d}.{m:02d}.{y:04d}",
                      st.integers(1900, 2100), st.integers(1, 12), st.integers(32, 99))))
        return DateCase(text, None, False, kind)
    if kind == "short_year":
        day = draw(past_days)
        return DateCase(f"{day.day:02d}.{day.month:02d}.{day.year % 100:02d}", None, False,
                        kind)
    text = draw(st.one_of(st.sampled_from(["yesterday", "2025", "March 2025", "2025/03/01",
                                           "1.3.", "2025-03-01T10:00", "45000", "N/A"]),
                          st.text(min_size=1, max_size=12).filter(
                              lambda t: t.strip() and not re.search(r"\d", t))))
    return DateCase(text, None, False, "garbage")


# ------------------------------------------------------------------ serial numbers

SN_SEPARATORS = (",", ";", " ", "\n", ", ", " ; ", "\t", ",\n", "  ")
_SN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
_SN = re.compile(r"[A-Z0-9-]{6,20}")


@dataclass(frozen=True)
class SerialList:
    """An SN cell: its text, the SNs it lists (trimmed, upper-cased) and whether each of
    them is a valid SN (SPEC §3: 6-20 of A-Z, 0-9, dash after trimming and upper-casing)."""

    text: str
    serials: tuple[str, ...]
    valid: bool


valid_serials = st.text(alphabet=_SN_CHARS, min_size=6, max_size=20)
odd_serials = st.one_of(
    st.text(alphabet=_SN_CHARS, min_size=1, max_size=5),
    st.text(alphabet=_SN_CHARS, min_size=21, max_size=26),
    st.builds(lambda a, bad, b: a + bad + b, st.text(alphabet=_SN_CHARS, min_size=3,
                                                     max_size=8),
              st.sampled_from(["#", "_", ".", "Ä", "/", "é", "ß", "ı", "ﬁ", "+", "'", "\u200b"]),
              st.text(alphabet=_SN_CHARS, min_size=2, max_size=8)),
    valid_serials.map(str.lower))


@st.composite
def serial_lists(draw, pool: tuple[str, ...] = ()) -> SerialList:
    """One or a few SNs, valid or not, joined by any of the separators SPEC §3 allows;
    ``pool`` SNs are drawn often, so SNs repeat across rows."""
    tokens = draw(st.lists(st.one_of(
        st.sampled_from(pool) if pool else valid_serials, valid_serials, odd_serials),
        min_size=1, max_size=4))
    text = tokens[0]
    for token in tokens[1:]:
        text += draw(st.sampled_from(SN_SEPARATORS)) + token
    if draw(st.booleans()):
        text = draw(st.sampled_from(["", " ", "\n"])) + text + draw(
            st.sampled_from(["", " ", ",", ";\n"]))
    serials = tuple(s for s in re.split(r"[,;\s]+", text.strip().upper()) if s)
    valid = bool(serials) and all(_SN.fullmatch(s) for s in serials)
    return SerialList(text, serials, valid)


# ------------------------------------------------------------------ rows

#: SNs rows draw from: the ones the codes name, the one with an open claim, and enough
#: others that most batches hold no SN twice.
SN_POOL = ("SN100001", "SN100002", "SN100003", "SN100004", OPEN_SERIAL,
           *(f"SN2000{n:02d}" for n in range(40)))
REFS = (None, None, "C-1", "C-2", "C-3", " C-1 ", "c-1", POSTED_REF, "C:C-1", "\uff23\u20101")
COUNTRIES = ("DE", "de", "Germany", "DEU", "Deutschland", "AT", "Österreich")
PHONES = ("+49 30 1234567", "0049 30 1234567", "+49 (30) 123-4567", "+4930123456", "030 1234567")
EMAILS = (None, "anna.mueller@example.com", "A.Müller@example.de")


def _corruptions(column: str) -> st.SearchStrategy[object]:
    """Values that break (or nearly break) one column's rule, and any cell at all."""
    targeted: dict[str, st.SearchStrategy[object]] = {
        "serial_number": st.one_of(
            serial_lists(SN_POOL).map(lambda s: s.text),
            st.sampled_from([1.2345678901234567e19, 12345678, "1.23E+19", ",", "SN100001,"
                             " SN100001"])),
        "installation_date": dates().map(lambda d: d.value),
        "fault_date": dates().map(lambda d: d.value),
        "recipient_email": st.sampled_from(["anna(at)example", "a@b", "a@b.c", "@x.de",
                                            "a b@x.de", "anna@example.com;bob@example.com"]),
        "recipient_phone": st.sampled_from(["12", "phone", 301234567, "+49 30 12 34 ext 9",
                                            "+0 123 4567", "+999 1234567"]),
        "recipient_country": st.sampled_from(["Atlantis", "XX", "D", "Deutschland ", "uk"]),
        "site_country": st.sampled_from(["Atlantis", "XX", "D", "FRA", "usa"]),
        "fault_description": st.sampled_from(["bad", "x" * 2001, "ok", "    fault   "]),
        "account_id": st.sampled_from(["D-001", "d-001", "I-GOLD", "I-SILVER", "X-OFF",
                                       "NOBODY", "D-002"]),
        "rma_code": st.sampled_from(CODE_TEXTS),
        "claim_ref": st.sampled_from(REFS[2:] + (7, 7.0, "C-1\n")),
        "notes": st.text(min_size=3990, max_size=4010),
    }
    options = [cells(), blanks]
    if column in targeted:
        options.insert(0, targeted[column])
    if column in MAX_LENGTH:
        limit = MAX_LENGTH[column]
        options.append(st.text(alphabet="abc ", min_size=limit - 2, max_size=limit + 2))
    return st.one_of(*options)


#: The codes each account was issued (see ``support.CODES``), as submitters write them.
OWN_CODES: dict[str | None, tuple[str, ...]] = {
    "I-SILVER": ("K7QX-P3MZ", "k7qx p3mz", "R4TN8WDC", "EXPD-2222", "rvkd 3333", "USED-4444"),
    "I-OTHER": ("BRNZ-6666",),
    "I-GOLD": ("GOLD-5555",),
}
NEEDS_CODE = ("I-SILVER", "I-OTHER")


@st.composite
def claim_rows(draw, origin: str | None = "D-001", index: int = 0) -> dict[str, object]:
    """One claim row of the canonical columns: valid in varied spellings, then 0-2 columns
    corrupted (about half the rows stay valid). ``index`` gives the row its own SN, which
    is often replaced by one of a small pool (SNs the codes cover, an open claim's SN,
    repeats) or by an SN list."""
    row: dict[str, object] = dict.fromkeys(CANONICAL)
    row.update(rules.claim())
    row["claim_ref"] = draw(st.sampled_from(REFS))
    row["serial_number"] = draw(st.one_of(
        st.just(f"SN3{index:05d}"), st.just(f"SN3{index:05d}"),
        st.sampled_from(SN_POOL[:8]), serial_lists(SN_POOL[:8]).map(lambda s: s.text)))
    row["recipient_country"] = draw(st.sampled_from(COUNTRIES))
    row["site_country"] = draw(st.sampled_from(COUNTRIES))
    row["recipient_phone"] = draw(st.sampled_from(PHONES))
    row["recipient_email"] = draw(st.sampled_from(EMAILS))
    row["installation_date"] = draw(st.sampled_from(["2025-03-01", "01.03.2025",
                                                     dt.date(2025, 3, 1), None]))
    if origin is None:
        row["account_id"] = draw(st.sampled_from(["D-001", "d-001", "I-GOLD", "I-SILVER",
                                                  "X-OFF", "NOBODY", None, "D-001:C"]))
    elif draw(st.integers(0, 4)) == 0:
        row["account_id"] = draw(st.sampled_from([origin, origin.lower(), "D-001"]))
    own = OWN_CODES.get(origin if origin is not None else row["account_id"], ())
    # installers below the threshold mostly give a code, everyone else rarely
    odds = 4 if origin in NEEDS_CODE else -8
    if (draw(st.integers(0, abs(odds) - 1)) == 0) == (odds > 0):
        row["rma_code"] = None
    elif own and draw(st.integers(0, 3)):
        row["rma_code"] = draw(st.sampled_from(own))
    else:
        row["rma_code"] = draw(st.sampled_from(CODE_TEXTS))
    if draw(st.integers(0, 4)) == 0:
        # a required field left blank: MISSING_FIELD, unless another row of the claim or
        # Customer Service's prefill fills it in
        row[draw(st.sampled_from(REQUIRED_AFTER_PREFILL))] = draw(st.sampled_from(BLANKS[:4]))
    for _ in range(draw(st.sampled_from([0, 0, 0, 0, 1, 1, 2]))):
        column = draw(st.sampled_from(CANONICAL))
        row[column] = draw(_corruptions(column))
    return row


@dataclass(frozen=True)
class Batch:
    origin: str | None
    rows: tuple[dict[str, object], ...]
    row_numbers: tuple[int, ...]  # the sheet row of each of ``rows``
    header_row: int

    def sheet(self, source: str = "claims.xlsx", sha256: str = "") -> SheetData:
        """The batch as a reader hands it on (canonical headers)."""
        cells = np.empty((len(self.rows), len(CANONICAL)), dtype=object)
        for position, row in enumerate(self.rows):  # cells exactly as drawn (None stays None)
            cells[position, :] = [row.get(column) for column in CANONICAL]
        sent = pd.DataFrame(cells, columns=list(CANONICAL), dtype=object,
                            index=pd.Index(list(self.row_numbers), name="row"))
        return SheetData(source=Path(source), sheet="Claims", header_row=self.header_row,
                         sent=sent, columns={c: c for c in CANONICAL}, sha256=sha256,
                         file_format=Path(source).suffix.lstrip("."))


@st.composite
def batches(draw, max_rows: int = 6, origins: tuple[str | None, ...] = ORIGINS) -> Batch:
    """A batch: an origin, 1-``max_rows`` claim rows, their sheet rows (with gaps where
    blank rows were dropped) below a header that may sit under title rows."""
    # the accounts that may file without a code weigh more: most claims should be decided
    # on their content, not refused for their account
    origin = draw(st.sampled_from(origins + tuple(o for o in origins
                                                  if o in ("D-001", "I-GOLD")) * 2))
    count = draw(st.integers(1, max_rows))
    rows = [draw(claim_rows(origin, index)) for index in range(count)]
    rows = [r for r in rows if not _blank_row(r)] or [dict(rules.claim(), account_id=None)]
    header_row = draw(st.integers(1, 6))
    numbers, row = [], header_row
    for _ in rows:
        row += 1 + draw(st.sampled_from([0, 0, 0, 1, 2]))
        numbers.append(row)
    return Batch(origin, tuple(rows), tuple(numbers), header_row)


def _blank_row(row: dict[str, object]) -> bool:
    return all(v is None or v == "" for v in row.values())


# ------------------------------------------------------------------ e-mail forms

LABEL_VARIANTS: dict[str, tuple[str, ...]] = {
    column: tuple(dict.fromkeys(
        label for label in (LABELS[column], column, column.replace("_", " ").title(),
                            LABELS[column].upper(), LABELS[column] + " ")
        if canonical_name(label) == column))
    for column in CANONICAL
}
LABEL_VARIANTS["serial_number"] += ("SN", "S/N", "Serial No.", "sns")
LABEL_VARIANTS["recipient_email"] += ("E-Mail", "email")
LABEL_VARIANTS["recipient_postcode"] += ("Post code", "ZIP")
_BULLETS = ("", "", "", "- ", "* ", "• ", "  ")
_CONTINUATION_STARTS = re.compile(r"^\s*(?:[-_>]|(?:on|am|le|begin|anfang)\b)", re.IGNORECASE)
#: Form values: anything on one line (a body's lines are split at \n and \r; \xa0 is read
#: as a space by design).
_value_chars = st.characters(codec="utf-8", exclude_characters="\n\r\xa0")


def _breaks_continuation(line: str) -> bool:
    """A continued value's line that the form rules read as something else (a new label,
    a separator, a quote, a mail header, a reply attribution or a forwarded-message mark)."""
    if not line.strip() or _CONTINUATION_STARTS.match(line):
        return True
    head = line.split(":", 1)[0].strip()
    return ":" in line and (canonical_name(head) is not None
                            or header_key(head) in MAIL_HEADER_LABELS)


_continuation_lines = st.builds(
    lambda head, tail: head + tail,
    st.characters(categories=["L", "N", "S", "Co"], exclude_characters="-_>\xa0"),
    st.text(_value_chars, max_size=19)).filter(lambda line: not _breaks_continuation(line))


@st.composite
def form_values(draw) -> tuple[str, list[str]]:
    """A value as written after its label: the first line (maybe blank) and 0-2 indented
    continuation lines; never blank as a whole."""
    first = draw(st.text(_value_chars, max_size=30))
    more = draw(st.lists(_continuation_lines, min_size=0 if first.strip() else 1,
                         max_size=2))
    return first, more


@dataclass(frozen=True)
class FormClaim:
    """One claim of an e-mailed form: the lines to write and the values they must give."""

    lines: tuple[str, ...]
    values: dict[str, str]


@st.composite
def form_claims(draw) -> FormClaim:
    """A claim written as ``Label: value`` lines in any label spelling and bullet style,
    values possibly continued on indented lines, the SN label possibly repeated."""
    columns = draw(st.lists(st.sampled_from(CANONICAL), min_size=1, max_size=6, unique=True))
    lines: list[str] = []
    values: dict[str, str] = {}
    for column in columns:
        repeats = draw(st.integers(1, 3)) if column == "serial_number" else 1
        parts: list[str] = []
        for _ in range(repeats):
            first, more = draw(form_values())
            label = draw(st.sampled_from(LABEL_VARIANTS[column]))
            spacing = draw(st.sampled_from([" ", "", "  ", " \t"]))
            lines.append(f"{draw(st.sampled_from(_BULLETS))}{label}:{spacing}{first}")
            lines.extend(f"{draw(st.sampled_from(['  ', chr(9), '    ']))}{m}" for m in more)
            value = "\n".join(p for p in (first.strip(), *(m.strip() for m in more)) if p)
            if value:
                parts.append(value)
        if parts:
            values[column] = "\n".join(parts)
    return FormClaim(tuple(lines), values)


PREFACES = ("", "Hello,\n\nplease find our claims below.\n\n", "Hi team\n\n",
            "Sehr geehrte Damen und Herren,\n\n")
SIGNATURES = ("", "\n-- \nAnna Müller\nPhone: +49 30 1234567\nSN: SHOULD-NOT-COUNT\n",
              "\nBest regards\nAnna\n")
HISTORIES = ("", "\n> SN: QUOTED0001\n> Fault: quoted, must be ignored\n",
             "\nOn Mon, 3 Nov 2026, Bob <bob@example.com> wrote:\n> Serial number: QUOTED0002\n")


def render_form(claims: list[FormClaim], preface: str, signature: str, history: str,
                separator: str = "---") -> str:
    body = f"\n{separator}\n".join("\n".join(c.lines) for c in claims)
    return preface + body + "\n" + history + signature


#: Lines a mail client writes above an earlier message.
HEADER_LINES = ("From: Anna <a@example.com>", "Von: Anna Müller", "De: Anna", "Sent: Monday",
                "Gesendet: Montag", "To: rma@x", "Subject: claims", "Date: today", "Cc:",
                "  folded header value")
MAIL_LINES = (
    "SN: SN123456", "Serial number:", "Fault: broken", "  continued line", "---", "-----",
    "> SN: QUOTED", "-- ", "--", "---------- Forwarded message ---------",
    "Begin forwarded message:", "-----Original Message-----", "_" * 12,
    "On Mon, 3 Nov 2026, Bob wrote:", "On Mon,", "Bob wrote:", "Am 3. Nov. 2026 schrieb Bob:",
    "Le 3 nov. 2026, Bob a écrit :", "Hello: there", "• Postcode: 01067", "Country : DE",
    "<html><body>SN: X</body></html>", "", " ", "\t", "Serial number: a, b;c", "Ref: R-1",
    "Claim reference: R-1", *HEADER_LINES,
)


def mail_noise() -> st.SearchStrategy[str]:
    """Bodies made of form-like lines (labels, separators, quotes, mail headers,
    attributions, signatures) with random text in between, often ending in a mail header
    line (where a look-ahead runs off the end), and plain random text."""
    line = st.one_of(st.sampled_from(MAIL_LINES),
                     st.builds(lambda label, v: f"{label}: {v}",
                               st.sampled_from([lab for v in LABEL_VARIANTS.values()
                                                for lab in v]),
                               st.text(max_size=30)),
                     st.text(max_size=40))
    lines = st.builds(lambda body, tail: [*body, *tail], st.lists(line, max_size=25),
                      st.lists(st.sampled_from(HEADER_LINES), max_size=2))
    return st.one_of(lines.map("\n".join), lines.map("\r\n".join), st.text(max_size=300))
