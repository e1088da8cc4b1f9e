"""The claim form in an e-mail body (SPEC §3): ``Label: value`` lines, ``---`` between claims.

Which lines are read (the sender's own text, not quoted or forwarded history, not the
signature) is ``rma.adapters.mail.history``'s rule; the lines read then:

* **Claims.** A line of three or more dashes (alone on the line) ends a claim; blank lines
  do not. A claim line is ``Label: value`` / ``Label : value``, optionally after a ``- ``,
  ``* `` or ``•`` bullet; the label must be recognised by :func:`canonical_name`. A value
  continues on the following indented lines (joined with a newline), unless such a line is
  itself a recognised ``Label:`` line. Other ``Name: value`` lines are listed as unknown
  labels (deduplicated, first spelling kept); mail header labels never are.
* **Repeats.** The serial-number label may repeat: values are joined with newlines. Any
  other repeated label keeps its first non-blank value; later ones are ignored silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rma.adapters.mail.history import own_lines, sections
from rma.adapters.mail.labels import MAIL_HEADER_LABELS, label_key, label_of
from rma.domain.vocabulary.columns import CANONICAL, HEADER_INDEX
from rma.domain.vocabulary.sheet import SheetData

SHEET_NAME = "e-mail form"

_SEPARATOR = re.compile(r"^\s*-{3,}\s*$")
_UNKNOWN_LABEL = re.compile(r"^[^\W\d_][\w .'/()&#-]{0,39}$")
#: the active "column" after a repeated label whose value is dropped: so are its continuations
_IGNORE = "\0ignore"


def form_sheet(body: str, *, source: Path, sha256: str) -> SheetData | None:
    """The body's claim form as a batch, or None when it holds no recognised label."""
    parsed = _read_form(body)
    if parsed is None:
        return None
    present = [c for c in CANONICAL if c in parsed.present]
    numbers: list[int] = []
    rows: list[dict[str, str]] = []
    for number, claim in enumerate(parsed.claims, start=1):
        if any(v.strip() for v in claim.values()):
            numbers.append(number)
            rows.append(claim)
    index = pd.Index(numbers, name="row", dtype="int64")
    sent = pd.DataFrame(
        {c: pd.Series([_cell(row.get(c)) for row in rows], index=index, dtype=object)
         for c in present},
        index=index,
    )
    return SheetData(
        source=Path(source), sheet=SHEET_NAME, header_row=0, sent=sent,
        columns={c: c for c in present}, unknown_columns=list(parsed.unknown),
        sha256=sha256, file_format="mail",
    )


def has_form_labels(body: str) -> bool:
    """Whether the body holds at least one recognised ``Label:`` line (history rules apply)."""
    return _read_form(body) is not None


# ---------------------------------------------------------------------------- internals


@dataclass
class _Form:
    claims: list[dict[str, str]] = field(default_factory=list)
    present: set[str] = field(default_factory=set)
    unknown: list[str] = field(default_factory=list)


def _cell(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _read_form(body: str) -> _Form | None:
    text = str(body or "").replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    for section in sections(text.split("\n")):
        form = _ClaimLines().read(own_lines(section))
        if form is not None:
            return form
    return None


def _claim_column(found: tuple[str, str] | None) -> str | None:
    """The canonical column a label line fills; None for no label, a mail header or an
    unrecognised label."""
    if found is None:
        return None
    key = label_key(found[0])
    return None if key in MAIL_HEADER_LABELS else HEADER_INDEX.get(key)


class _ClaimLines:
    """Reads one section's lines into a ``_Form``, line by line (the Claims and Repeats rules).

    A value is kept as its lines, joined once when the claim closes: growing a string per
    repeated SN line would copy it every time (quadratic in the number of lines)."""

    def __init__(self) -> None:
        self.form = _Form()
        self._claim: dict[str, list[str]] = {}
        self._filled: set[str] = set()  # columns of ``_claim`` holding more than whitespace
        self._active: str | None = None  # the column an indented line continues
        self._seen_unknown: set[str] = set()

    def read(self, lines: list[str]) -> _Form | None:
        """The form, or None when no line holds a recognised label."""
        for line in lines:
            self._line(line)
        self._close_claim()
        return self.form if self.form.present else None

    def _line(self, line: str) -> None:
        if _SEPARATOR.match(line):
            self._close_claim()
            self._active = None
            return
        if not line.strip():
            self._active = None
            return
        found = label_of(line)
        column = _claim_column(found)
        if column is not None and found is not None:
            self._field(column, found[1].strip())
        elif line[:1] in (" ", "\t") and self._active is not None:
            if self._active != _IGNORE:
                self._append(self._active, line.strip())
        else:
            self._active = None
            if found is not None:
                self._note_unknown(*found)

    def _field(self, column: str, value: str) -> None:
        """A recognised label: a new value, one more serial number, or a repeat ignored."""
        self.form.present.add(column)
        if column not in self._claim:
            self._put(column, value)
        elif column == "serial_number":
            self._append(column, value)
        elif column not in self._filled:
            self._put(column, value)
        else:
            self._active = _IGNORE
            return
        self._active = column

    def _note_unknown(self, label: str, value: str) -> None:
        """A ``Name: value`` line that looks like a field: listed once as an unknown label."""
        key = label_key(label)
        if (key and key not in MAIL_HEADER_LABELS and key not in self._seen_unknown
                and _UNKNOWN_LABEL.match(label) and len(label.split()) <= 4
                and value[:1].isspace() and value.strip()):
            self._seen_unknown.add(key)
            self.form.unknown.append(label)

    def _put(self, column: str, text: str) -> None:
        self._claim[column] = [text]
        self._filled.discard(column)
        if text.strip():
            self._filled.add(column)

    def _append(self, column: str, text: str) -> None:
        parts = self._claim[column]
        if parts == [""]:
            parts[0] = text
        else:
            parts.append(text)
        if text.strip():
            self._filled.add(column)

    def _close_claim(self) -> None:
        if self._claim:
            self.form.claims.append({c: "\n".join(parts) for c, parts in self._claim.items()})
        self._claim = {}
        self._filled.clear()
