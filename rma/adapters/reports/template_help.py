"""What the claim template says about each column and about filling it in: the header
comments and the Help sheet (``template`` writes them). ``{threshold}`` in a text is the
configured eligibility level."""

from __future__ import annotations

from dataclasses import dataclass

from rma.domain.vocabulary.columns import PREFILL_FIELDS, REQUIRED_AFTER_PREFILL


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
