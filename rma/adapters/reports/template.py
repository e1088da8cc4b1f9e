"""The .xlsx claim template (``rma template PATH``): canonical headers, drop-downs and help.

The headers are exactly the canonical column names so the reader recognises them; the
"Help" sheet and the header comments say what goes in each column.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pycountry
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from rma.adapters.names import temporary_beside
from rma.config import Settings
from rma.domain.vocabulary.columns import (
    CANONICAL,
    COUNTRY_COLUMNS,
    DATE_COLUMNS,
    LABELS,
    MAX_LENGTH,
    MIN_FAULT_DESCRIPTION,
    PREFILL_FIELDS,
    REQUIRED_AFTER_PREFILL,
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


@dataclass(frozen=True)
class ColumnHelp:
    format: str
    example: str
    rule: str
    width: float = 18


HELP: dict[str, ColumnHelp] = {
    "claim_ref": ColumnHelp(
        "text",
        "C-2025-017",
        "Your own reference. Rows with the same claim_ref form ONE claim (e.g. several "
        "units of one site). Blank: the row is a claim by itself.",
        16,
    ),
    "account_id": ColumnHelp(
        "text", "D-001", "Optional. If given it must be your own account ID in every row.", 12
    ),
    "rma_code": ColumnHelp(
        "text",
        "K7QX-P3MZ",
        "The RMA code Customer Service gave you. Required for installers below the "
        "{threshold} level; case, spaces and dashes do not matter.",
        14,
    ),
    "serial_number": ColumnHelp(
        "text, 6-20 characters A-Z 0-9 -",
        "INV2301234567",
        "One serial number, or several separated by commas, semicolons, spaces or line "
        "breaks (one claim line each).",
        22,
    ),
    "product_model": ColumnHelp("text", "HX-8K-3P", "The product model, free text.", 16),
    "fault_description": ColumnHelp(
        "text, 5-2000 characters",
        "Inverter shuts down at noon, error IE 01",
        "What is wrong with the product.",
        40,
    ),
    "error_code": ColumnHelp("text", "IE 01", "The error code the device shows, if any.", 12),
    "installation_date": ColumnHelp(
        "date", "2024-05-17", "When the product was installed. Not in the future.", 14
    ),
    "fault_date": ColumnHelp(
        "date",
        "2025-03-02",
        "When the fault appeared. Not in the future and not before the installation date.",
        14,
    ),
    "recipient_name": ColumnHelp("text", "Anna Schmidt", "Who receives the replacement.", 20),
    "recipient_company": ColumnHelp("text", "Solar Schmidt GmbH", "Optional.", 20),
    "recipient_phone": ColumnHelp(
        "text, international",
        "+49 30 1234567",
        "Phone number of the recipient, with the country code.",
        16,
    ),
    "recipient_email": ColumnHelp(
        "e-mail address", "anna@example.com", "Optional; checked for a valid address.", 24
    ),
    "recipient_address": ColumnHelp(
        "text", "Hauptstrasse 5", "Street and number for the delivery.", 28
    ),
    "recipient_city": ColumnHelp("text", "Berlin", "Delivery city.", 16),
    "recipient_postcode": ColumnHelp(
        "text", "01067", "Delivery postcode, kept as text (leading zeros matter).", 12
    ),
    "recipient_country": ColumnHelp(
        "ISO country code",
        "DE",
        "Delivery country: two-letter ISO code from the drop-down (names are also understood).",
        12,
    ),
    "site_address": ColumnHelp("text", "Feldweg 2", "Where the faulty product is installed.", 28),
    "site_city": ColumnHelp("text", "Potsdam", "City of the installation site.", 16),
    "site_postcode": ColumnHelp(
        "text", "14467", "Postcode of the installation site, kept as text.", 12
    ),
    "site_country": ColumnHelp(
        "ISO country code",
        "DE",
        "Country of the installation site: two-letter ISO code from the drop-down.",
        12,
    ),
    "notes": ColumnHelp(
        "text", "Customer available after 2 pm", "Anything else we should know.", 30
    ),
}

GENERAL_HELP: tuple[tuple[str, str], ...] = (
    (
        "How to fill in",
        "One row per claim line on the 'Claims' sheet, starting in row 2. Keep the header row "
        "as it is; extra columns are ignored (and reported).",
    ),
    (
        "Dates",
        "Use real Excel dates, or text as YYYY-MM-DD (2025-03-04) or DD.MM.YYYY (04.03.2025). "
        "Ambiguous dates such as 03/04/2025 are rejected, not guessed.",
    ),
    (
        "Several serial numbers",
        "A serial_number cell may hold several serial numbers separated by commas, semicolons, "
        "spaces or line breaks; each becomes a line of the same claim.",
    ),
    (
        "Claims of several rows",
        "Rows that share the same claim_ref form one claim. If any row of a claim has an error, "
        "the whole claim is rejected and every error is listed in the report.",
    ),
    (
        "Who may file",
        "Distributors may always file a claim. Installers at the {threshold} level or above may "
        "always file. Installers below that level need an RMA code from Customer Service: call "
        "or e-mail Customer Service first and put the code in the rma_code column.",
    ),
    (
        "What the RMA code fills in",
        "Customer Service registers what it learnt with the code (recipient, site, product, "
        "fault). That data fills your claim in, so those columns may stay blank. Where you give "
        "a different value, Customer Service's value is used and yours is kept in the notes.",
    ),
    (
        "Text columns",
        "Serial numbers, postcodes, phone numbers and codes are text: the template formats these "
        "columns as text so Excel keeps leading zeros.",
    ),
)


def required_text(column: str, threshold: str) -> str:
    if column == "rma_code":
        return f"Installers below {threshold.title()}"
    if column in REQUIRED_AFTER_PREFILL:
        if column in PREFILL_FIELDS:
            return "Yes, unless your RMA code already holds it"
        return "Yes"
    return "No"


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
    claims = wb.active
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
