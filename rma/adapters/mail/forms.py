"""The claim form in an e-mail body (SPEC §3): ``Label: value`` lines, ``---`` between claims.

Reading rules, in order:

* **History.** The body is cut into sections at the start of an earlier message: a
  ``---------- Forwarded message ---------`` / ``Begin forwarded message:`` line, an
  ``-----Original Message-----`` line, a line of underscores followed by a ``From:`` line, or
  a bare block of mail header lines (``From:`` plus ``Sent:``/``Date:``/``To:``/
  ``Subject:``...). The header lines at the top of such a section (From, Sent, To, Subject,
  Date, Cc, ... and their German forms) are skipped; they never become claim fields nor
  unknown labels. The **first** section that holds a recognised label is the form: what
  the sender wrote now wins, and the quoted/forwarded history is read only when the new
  text holds no form (a forwarded customer form is still read).
* **Quotes.** Lines starting with ``>`` (after optional spaces) are ignored, and so is a
  reply attribution line ("On Mon, 3 Nov 2026, X wrote:", "Am ... schrieb ...:", also
  wrapped over two lines). Fresh text below a quote (bottom posting) is still read.
* **Signature.** Everything from a ``-- `` (or bare ``--``) line to the end of its section
  is ignored.
* **Claims.** A line of three or more dashes (alone on the line) ends a claim; blank lines
  do not. A claim line is ``Label: value`` / ``Label : value``, optionally after a ``- ``,
  ``* `` or ``•`` bullet; the label must be recognised by :func:`canonical_name`. A value
  continues on the following indented lines (joined with a newline), unless such a line is
  itself a recognised ``Label:`` line. Other ``Name: value`` lines are listed as unknown
  labels (deduplicated, first spelling kept).
* **Repeats.** The serial-number label may repeat: values are joined with newlines. Any
  other repeated label keeps its first non-blank value; later ones are ignored silently.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rma.domain.vocabulary.columns import CANONICAL, HEADER_INDEX, header_key
from rma.domain.vocabulary.sheet import SheetData

SHEET_NAME = "e-mail form"

#: Mail header labels (folded by :func:`header_key`) that are never claim fields.
MAIL_HEADER_LABELS: frozenset[str] = frozenset(
    header_key(label) for label in (
        "From", "Sent", "To", "Subject", "Date", "Cc", "Bcc", "Reply-To", "Importance",
        "Attachments", "Organization", "Message-ID", "MIME-Version", "Content-Type",
        "Content-Transfer-Encoding", "Content-Disposition",
        "Von", "Gesendet", "An", "Betreff", "Datum", "Kopie", "Antwort an", "Anlagen",
        "De", "Envoyé", "Objet", "À",
    )
)
_FROM_LABELS = frozenset(header_key(label) for label in ("From", "Von", "De"))

_SEPARATOR = re.compile(r"^\s*-{3,}\s*$")
_QUOTED = re.compile(r"^\s*>")
_LABEL_LINE = re.compile(r"^\s*(?:[-*•·]\s+)?(?P<label>[^:\n]{1,60}?)\s*:(?P<value>.*)$")
_UNKNOWN_LABEL = re.compile(r"^[^\W\d_][\w .'/()&#-]{0,39}$")
_FORWARD_MARK = re.compile(
    r"^\s*(?:-{2,}\s*(?:forwarded message|weitergeleitete nachricht|message transféré)"
    r"\s*-*|begin forwarded message:?|anfang der weitergeleiteten nachricht:?)\s*$",
    re.IGNORECASE)
_ORIGINAL_MARK = re.compile(
    r"^\s*-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine)\s*-{2,}\s*$",
    re.IGNORECASE)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_ATTRIBUTION = re.compile(r"^\s*(?:on\s.{0,300}\swrote|am\s.{0,300}\sschrieb.{0,200}|"
                          r"le\s.{0,300}\sa écrit)\s*:\s*$", re.IGNORECASE)
_ATTRIBUTION_START = re.compile(r"^\s*(?:on|am|le)\s", re.IGNORECASE)
_ATTRIBUTION_END = re.compile(r"(?:wrote|schrieb.{0,200}|a écrit)\s*:\s*$", re.IGNORECASE)


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
    for section in _sections(text.split("\n")):
        form = _parse(_clean(section))
        if form is not None:
            return form
    return None


def _label_of(line: str) -> tuple[str, str] | None:
    match = _LABEL_LINE.match(line)
    if match is None:
        return None
    return match.group("label").strip(), match.group("value")


#: labels repeat line after line (SN: ...): fold each spelling once
_key = functools.lru_cache(maxsize=4096)(header_key)


def _is_header_line(line: str) -> bool:
    found = _label_of(line)
    return found is not None and _key(found[0]) in MAIL_HEADER_LABELS


def _is_from_line(line: str) -> bool:
    found = _label_of(line)
    return found is not None and _key(found[0]) in _FROM_LABELS


def _is_folded(line: str) -> bool:
    return line[:1] in (" ", "\t") and bool(line.strip())


def _fold_ends(lines: list[str]) -> list[int]:
    """For each line, the index of the first line from there on that is not a folded
    continuation. Computed once, backwards: rescanning the folded run from every From line
    would be quadratic for a body of many indented ``From:`` lines."""
    ends = [len(lines)] * (len(lines) + 1)
    for j in range(len(lines) - 1, -1, -1):
        ends[j] = ends[j + 1] if _is_folded(lines[j]) else j
    return ends


def _header_block_at(lines: list[str], i: int, fold_ends: list[int]) -> bool:
    """A From: line followed directly by at least one more mail header line."""
    if not _is_from_line(lines[i]):
        return False
    j = fold_ends[i + 1]  # past the From value folded over lines
    return j < len(lines) and _is_header_line(lines[j])


def _next_nonblank(lines: list[str], i: int) -> int:
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i


def _sections(lines: list[str]) -> list[list[str]]:
    """Cut at each start of an earlier message; each later section loses its header lines."""
    sections: list[list[str]] = []
    current: list[str] = []
    fold_ends = _fold_ends(lines)
    i = 0
    while i < len(lines):
        line = lines[i]
        start = None
        if _FORWARD_MARK.match(line) or _ORIGINAL_MARK.match(line):
            start = i + 1
        elif _UNDERSCORES.match(line):
            nxt = _next_nonblank(lines, i + 1)
            if nxt < len(lines) and _is_from_line(lines[nxt]):
                start = nxt
        elif not _QUOTED.match(line) and _header_block_at(lines, i, fold_ends):
            start = i
        if start is None:
            current.append(line)
            i += 1
            continue
        sections.append(current)
        current = []
        i = _skip_headers(lines, start)
    sections.append(current)
    return sections


def _skip_headers(lines: list[str], i: int) -> int:
    i = _next_nonblank(lines, i)
    while i < len(lines):
        if _is_header_line(lines[i]):
            i += 1
            while i < len(lines) and _is_folded(lines[i]):
                i += 1  # a folded header value
        else:
            break
    return i


def _clean(lines: list[str]) -> list[str]:
    """Drop quoted lines and reply attributions; stop at the signature."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip() == "--":
            break
        if _QUOTED.match(line) or _ATTRIBUTION.match(line):
            i += 1
            continue
        if (_ATTRIBUTION_START.match(line) and i + 1 < len(lines)
                and _ATTRIBUTION_END.search(lines[i + 1])
                and _ATTRIBUTION.match(line.rstrip() + " " + lines[i + 1].strip())):
            i += 2
            continue
        out.append(line)
        i += 1
    return out


_IGNORE = "\0ignore"


def _parse(lines: list[str]) -> _Form | None:
    form = _Form()
    # a value is kept as its lines, joined once when the claim closes: growing a string per
    # repeated SN line would copy it every time (quadratic in the number of lines)
    claim: dict[str, list[str]] = {}
    filled: set[str] = set()  # columns of ``claim`` holding more than whitespace
    active: str | None = None
    seen_unknown: set[str] = set()

    def close() -> None:
        nonlocal claim
        if claim:
            form.claims.append({c: "\n".join(parts) for c, parts in claim.items()})
        claim = {}
        filled.clear()

    def add(column: str, text: str) -> None:
        parts = claim[column]
        if parts == [""]:
            parts[0] = text
        else:
            parts.append(text)
        if text.strip():
            filled.add(column)

    def put(column: str, text: str) -> None:
        claim[column] = [text]
        filled.discard(column)
        if text.strip():
            filled.add(column)

    for line in lines:
        if _SEPARATOR.match(line):
            close()
            active = None
            continue
        if not line.strip():
            active = None
            continue
        indented = line[:1] in (" ", "\t")
        found = _label_of(line)
        column = None
        if found is not None and (key := _key(found[0])) not in MAIL_HEADER_LABELS:
            column = HEADER_INDEX.get(key)  # canonical_name, on the folded label
        if column is not None:
            value = found[1].strip()
            form.present.add(column)
            if column not in claim:
                put(column, value)
                active = column
            elif column == "serial_number":
                add(column, value)
                active = column
            elif column not in filled:
                put(column, value)
                active = column
            else:
                active = _IGNORE
            continue
        if indented and active is not None:
            if active != _IGNORE:
                add(active, line.strip())
            continue
        active = None
        if found is not None:
            label, value = found
            key = _key(label)
            if (key and key not in MAIL_HEADER_LABELS and key not in seen_unknown
                    and _UNKNOWN_LABEL.match(label) and len(label.split()) <= 4
                    and value[:1].isspace() and value.strip()):
                seen_unknown.add(key)
                form.unknown.append(label)
    close()
    return form if form.present else None
