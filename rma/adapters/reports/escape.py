"""Echoing untrusted values back safely: spreadsheet formulas, XML-illegal characters, markdown.

A value a submitter sent may reach Excel again (our report, or a CSV they open), the Prefect
UI (markdown) or an e-mail. Everything here is pure. ``escape_formula`` is undone exactly by
``unescape_formula`` (a returned report): apply it once, where a value is written.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time
from typing import Any, TypeVar

T = TypeVar("T")

#: A text cell starting with one of these may be run as a formula by Excel, LibreOffice or
#: Google Sheets (OWASP "CSV injection"); the full-width forms are folded by some locales.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
#: Where a spreadsheet may start a new cell inside one CSV field: a file opened in a locale
#: that splits on ``;`` (German Excel) or on tabs makes ``x;=cmd|' /C calc'!A0`` two cells,
#: the second a formula; the writer's quotes do not help (they are not at the start of the
#: cell that program sees). A trigger after one of these, spaces or quotes between, counts.
CELL_SEPARATORS = ",;\t"
_TRIGGER_AFTER_SEPARATOR = re.compile(
    f"([{re.escape(CELL_SEPARATORS)}][ \"]*)(?=[{re.escape(''.join(FORMULA_PREFIXES))}])")

# Characters XML 1.0 cannot carry (openpyxl raises IllegalCharacterError on them).
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Only what can break a table or make a link, image or HTML; intra-word _ and * stay as they
# are so codes like CODE_INVALID read well in plain-text e-mail too.
_MD_SPECIAL = re.compile(r"([\\`\[\]<>|])")
_WHITESPACE_RUN = re.compile(r"\s+")


def _needs_escape(text: str) -> bool:
    """A formula trigger at the start, after any ``'`` of the value's own: a value that
    begins with ``'`` gains one more, so that ``unescape_formula`` gives it back whole."""
    return text.lstrip("'").startswith(FORMULA_PREFIXES)


def escape_formula(value: T) -> T | str:
    """Prefix a string that a spreadsheet could run as a formula with ``'``.

    Non-strings come back unchanged: numbers and dates cannot carry a formula.
    """
    if isinstance(value, str) and _needs_escape(value):
        return "'" + value
    return value


def escape_csv_field(text: str) -> str:
    """``escape_formula``, and a ``'`` before every formula trigger that follows a separator
    of some locale (``CELL_SEPARATORS``): whichever way the field is split, no cell starts a
    formula. Only for the CSV report, which is never read back."""
    return _TRIGGER_AFTER_SEPARATOR.sub(r"\1'", escape_formula(text))


def unescape_formula(value: Any) -> Any:
    """The value before ``escape_formula``: a report sent back must not gain a ``'``."""
    if isinstance(value, str) and value.startswith("'") and _needs_escape(value[1:]):
        return value[1:]
    return value


def xml_safe(text: str) -> str:
    """Replace characters that cannot be stored in an .xlsx with U+FFFD."""
    return _XML_ILLEGAL.sub("\ufffd", text)


def escape_markdown(text: Any) -> str:
    """One-line text for a markdown table cell: specials backslash-escaped, no newlines."""
    flat = _WHITESPACE_RUN.sub(" ", as_text(text)).strip()
    return _MD_SPECIAL.sub(r"\\\1", flat)


def is_blank(value: Any) -> bool:
    """None, NaN, NaT and pd.NA: what a blank cell can look like after pandas."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    # pd.NaT and pd.NA without importing pandas here: both are their type's only instance
    return type(value).__name__ in {"NaTType", "NAType"}


def as_text(value: Any) -> str:
    """A sent value as the text the submitter would recognise (no escaping)."""
    if is_blank(value):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def safe_text(value: Any) -> str:
    """``as_text`` escaped for a CSV or spreadsheet cell."""
    text = as_text(value)
    return "'" + text if _needs_escape(text) else text
