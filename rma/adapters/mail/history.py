"""Which lines of an e-mail body the sender wrote: earlier messages, quotes and signature apart.

* **History.** The body is cut into sections at the start of an earlier message: a
  ``---------- Forwarded message ---------`` / ``Begin forwarded message:`` line, an
  ``-----Original Message-----`` line, a line of underscores followed by a ``From:`` line, or
  a bare block of mail header lines (``From:`` plus ``Sent:``/``Date:``/``To:``/
  ``Subject:``...). The header lines at the top of such a section (From, Sent, To, Subject,
  Date, Cc, ... and their German forms) are skipped; they never become claim fields nor
  unknown labels. The form reader takes the **first** section that holds a recognised label:
  what the sender wrote now wins, and the quoted/forwarded history is read only when the new
  text holds no form (a forwarded customer form is still read).
* **Quotes.** Lines starting with ``>`` (after optional spaces) are ignored, and so is a
  reply attribution line ("On Mon, 3 Nov 2026, X wrote:", "Am ... schrieb ...:", also
  wrapped over two lines). Fresh text below a quote (bottom posting) is still read.
* **Signature.** Everything from a ``-- `` (or bare ``--``) line to the end of its section
  is ignored.
"""

from __future__ import annotations

import re

from rma.adapters.mail.labels import FROM_LABELS, MAIL_HEADER_LABELS, label_key, label_of

_QUOTED = re.compile(r"^\s*>")
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


def sections(lines: list[str]) -> list[list[str]]:
    """Cut at each start of an earlier message; each later section loses its header lines."""
    found: list[list[str]] = []
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
        found.append(current)
        current = []
        i = _skip_headers(lines, start)
    found.append(current)
    return found


def own_lines(section: list[str]) -> list[str]:
    """Drop quoted lines and reply attributions; stop at the signature."""
    out: list[str] = []
    i = 0
    while i < len(section):
        line = section[i]
        if line.rstrip() == "--":
            break
        if _QUOTED.match(line) or _ATTRIBUTION.match(line):
            i += 1
            continue
        if (_ATTRIBUTION_START.match(line) and i + 1 < len(section)
                and _ATTRIBUTION_END.search(section[i + 1])
                and _ATTRIBUTION.match(line.rstrip() + " " + section[i + 1].strip())):
            i += 2
            continue
        out.append(line)
        i += 1
    return out


def _is_header_line(line: str) -> bool:
    found = label_of(line)
    return found is not None and label_key(found[0]) in MAIL_HEADER_LABELS


def _is_from_line(line: str) -> bool:
    found = label_of(line)
    return found is not None and label_key(found[0]) in FROM_LABELS


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
