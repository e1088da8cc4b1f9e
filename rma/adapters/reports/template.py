"""The .xlsx claim template (``rma template PATH``): canonical headers, drop-downs and help.

The headers are exactly the canonical column names so the reader recognises them; the
"Help" sheet and the header comments say what goes in each column (their texts are in
``template_help``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pycountry
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from rma.adapters.names import temporary_beside
from rma.adapters.reports.template_help import GENERAL_HELP, HELP, required_text
from rma.config import Settings
from rma.domain.vocabulary.columns import (
    CANONICAL,
    COUNTRY_COLUMNS,
    DATE_COLUMNS,
    LABELS,
    MAX_LENGTH,
    MIN_FAULT_DESCRIPTION,
    TEXT_LIKE_NUMBERS,
)
from rma.errors import ConfigError

CLAIMS_SHEET = "Claims"
LISTS_SHEET = "Lists"
HELP_SHEET = "Help"
FIRST_ROW, LAST_ROW = 2, 5000
TEXT_FORMAT = "@"
DATE_FORMAT = "yyyy-mm-dd"
HEADER_FILL = PatternFill(fill_type="solid", start_color="DDEBF7", end_color="DDEBF7")
REQUIRED_FILL = PatternFill(fill_type="solid", start_color="F8CBAD", end_color="F8CBAD")
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")


def check_template_path(path: Path, force: bool = False) -> None:
    """Refuse, in one line (``ConfigError``), a path the template must not be written to: not
    ``.xlsx`` (an xlsx inside ``x.csv`` opens as garbage), in a folder that does not exist
    (a typo is not silently made into folders), a link (never written through), a folder,
    or a file that exists unless ``force``."""
    if path.suffix.lower() != ".xlsx":
        raise ConfigError(f"{path}: the template is an .xlsx workbook; give a path ending in "
                          ".xlsx")
    if not path.parent.is_dir():
        raise ConfigError(f"{path}: the folder {path.parent} does not exist; create it first")
    if path.is_symlink():
        raise ConfigError(f"{path}: is a symbolic link; the template is not written through "
                          "a link")
    if os.path.lexists(path) and not path.is_file():
        raise ConfigError(f"{path}: exists and is not a file")
    if path.exists() and not force:
        raise ConfigError(f"{path}: the file exists; add --force to replace it")


def write_template(path: Path, *, threshold: str | None = None, force: bool = False) -> Path:
    """Write the claim template to ``path`` (atomically) and return the path; the path is
    checked first (``check_template_path``). ``threshold``: RMA_ELIGIBILITY_THRESHOLD (its
    default unless given)."""
    path = Path(path)
    threshold = threshold or Settings().eligibility_threshold
    check_template_path(path, force)
    wb = Workbook()
    claims = wb.worksheets[0]
    claims.title = CLAIMS_SHEET
    countries = _write_lists(wb.create_sheet(LISTS_SHEET))
    _write_claims(claims, countries, threshold)
    _write_help(wb.create_sheet(HELP_SHEET), threshold)
    wb.active = 0
    tmp = temporary_beside(path)
    try:
        wb.save(tmp)
        if force:
            os.replace(tmp, path)  # replaces a link itself, never what it points to
        else:  # a file (or link) made there since the check is not overwritten either
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise ConfigError(f"{path}: the file exists; add --force to replace it"
                                  ) from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def _write_lists(ws: Worksheet) -> str:
    """The hidden list of ISO 3166-1 alpha-2 codes; returns the range for the drop-down."""
    codes = sorted(c.alpha_2 for c in pycountry.countries)
    ws["A1"] = "country"
    for i, code in enumerate(codes, start=2):
        ws.cell(row=i, column=1, value=code)
    ws.sheet_state = "hidden"
    return f"{LISTS_SHEET}!$A$2:$A${len(codes) + 1}"


def _column_range(column: str) -> str:
    letter = get_column_letter(CANONICAL.index(column) + 1)
    return f"{letter}{FIRST_ROW}:{letter}{LAST_ROW}"


def _write_claims(ws: Worksheet, countries: str, threshold: str) -> None:
    required = {c for c in CANONICAL if required_text(c, threshold).startswith("Yes")}
    for i, column in enumerate(CANONICAL, start=1):
        info = HELP[column]
        cell = ws.cell(row=1, column=i, value=column)
        cell.font = BOLD
        cell.fill = REQUIRED_FILL if column in required else HEADER_FILL
        text = (
            f"{LABELS[column]}\nRequired: {required_text(column, threshold)}\n"
            f"Format: {info.format}\nExample: {info.example}\n"
            f"{info.rule.format(threshold=threshold.title())}"
        )
        cell.comment = Comment(text, "RMA intake", height=160, width=300)
        dim = ws.column_dimensions[get_column_letter(i)]
        dim.width = max(info.width, len(column) + 2)
        if column in TEXT_LIKE_NUMBERS:
            dim.number_format = TEXT_FORMAT
        elif column in DATE_COLUMNS:
            dim.number_format = DATE_FORMAT
    ws.freeze_panes = "A2"
    _add_validations(ws, countries)


def _add_validations(ws: Worksheet, countries: str) -> None:
    # "warning" style: Excel asks, but lets through values the intake also accepts
    # (a country name, a DD.MM.YYYY date typed as text)
    country = DataValidation(
        type="list",
        formula1=countries,
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle="Country",
        error="Please pick a two-letter ISO country code from the list.",
        showInputMessage=True,
        promptTitle="Country",
        prompt="Two-letter ISO code, e.g. DE",
    )
    dates = DataValidation(
        type="date",
        operator="between",
        formula1="DATE(1990,1,1)",
        formula2="TODAY()",
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle="Date",
        error="Please enter a date (YYYY-MM-DD), not in the future.",
        showInputMessage=True,
        promptTitle="Date",
        prompt="YYYY-MM-DD, not in the future",
    )
    fault = DataValidation(
        type="textLength",
        operator="between",
        formula1=str(MIN_FAULT_DESCRIPTION),
        formula2=str(MAX_LENGTH["fault_description"]),
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle="Fault description",
        error=f"Describe the fault in {MIN_FAULT_DESCRIPTION} to "
        f"{MAX_LENGTH['fault_description']} characters.",
    )
    for dv, columns in (
        (country, COUNTRY_COLUMNS),
        (dates, DATE_COLUMNS),
        (fault, ("fault_description",)),
    ):
        ws.add_data_validation(dv)
        for column in columns:
            dv.add(_column_range(column))


def _write_help(ws: Worksheet, threshold: str) -> None:
    level = threshold.title()
    ws.append(["RMA claim template – help"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([])
    for title, text in GENERAL_HELP:
        ws.append([title, text.format(threshold=level)])
        ws.cell(row=ws.max_row, column=1).font = BOLD
        ws.cell(row=ws.max_row, column=2).alignment = WRAP
    ws.append([])
    header = ["Column", "Label", "Required", "Format", "Example", "Rule"]
    ws.append(header)
    for i in range(1, len(header) + 1):
        ws.cell(row=ws.max_row, column=i).font = BOLD
        ws.cell(row=ws.max_row, column=i).fill = HEADER_FILL
    for column in CANONICAL:
        info = HELP[column]
        ws.append(
            [
                column,
                LABELS[column],
                required_text(column, threshold),
                info.format,
                info.example,
                info.rule.format(threshold=level),
            ]
        )
        for i in (2, 6):
            ws.cell(row=ws.max_row, column=i).alignment = WRAP
    for letter, width in zip("ABCDEF", (24, 60, 26, 26, 36, 70), strict=True):
        ws.column_dimensions[letter].width = width
