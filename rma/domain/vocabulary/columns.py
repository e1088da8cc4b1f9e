"""The canonical claim columns of SPEC §3, their header aliases and which are required."""

from __future__ import annotations

import re

CANONICAL: tuple[str, ...] = (
    "claim_ref",
    "account_id",
    "rma_code",
    "serial_number",
    "product_model",
    "fault_description",
    "error_code",
    "installation_date",
    "fault_date",
    "recipient_name",
    "recipient_company",
    "recipient_phone",
    "recipient_email",
    "recipient_address",
    "recipient_city",
    "recipient_postcode",
    "recipient_country",
    "site_address",
    "site_city",
    "site_postcode",
    "site_country",
    "notes",
)

DATE_COLUMNS: tuple[str, ...] = ("installation_date", "fault_date")
COUNTRY_COLUMNS: tuple[str, ...] = ("recipient_country", "site_country")
#: Each postcode column and the country column whose format it is checked against.
POSTCODE_COUNTRY: dict[str, str] = {"recipient_postcode": "recipient_country",
                                    "site_postcode": "site_country"}
PHONE_COLUMNS: tuple[str, ...] = ("recipient_phone",)
EMAIL_COLUMNS: tuple[str, ...] = ("recipient_email",)
#: Columns whose values are text even when they look like numbers (SPEC §3: a leading zero
#: lost to Excel is a warning, never silently accepted).
TEXT_LIKE_NUMBERS: tuple[str, ...] = (
    "serial_number",
    "recipient_phone",
    "recipient_postcode",
    "site_postcode",
    "error_code",
    "claim_ref",
    "rma_code",
    "account_id",
)
TEXT_COLUMNS: tuple[str, ...] = tuple(c for c in CANONICAL if c not in DATE_COLUMNS)

#: Required once Customer Service's prefill has been applied (SPEC §3).
REQUIRED_AFTER_PREFILL: tuple[str, ...] = (
    "serial_number",
    "fault_description",
    "recipient_name",
    "recipient_phone",
    "recipient_address",
    "recipient_city",
    "recipient_postcode",
    "recipient_country",
    "site_address",
    "site_country",
)

#: Fields an RMA code record may carry from Customer Service (SPEC §2).
PREFILL_FIELDS: tuple[str, ...] = (
    "recipient_name",
    "recipient_company",
    "recipient_phone",
    "recipient_email",
    "recipient_address",
    "recipient_city",
    "recipient_postcode",
    "recipient_country",
    "site_address",
    "site_city",
    "site_postcode",
    "site_country",
    "product_model",
    "fault_description",
    "error_code",
    "installation_date",
)

#: Everything Customer Service registers with a code: the prefill fields plus its own
#: assessment, which travels with the claim but is no column a submitter fills in.
CS_FIELDS: tuple[str, ...] = (*PREFILL_FIELDS, "assessment")

#: Columns that describe one SN line rather than the claim as a whole.
LINE_COLUMNS: tuple[str, ...] = ("serial_number",)

#: Text length limits (characters) per column; fault_description has its own minimum.
MAX_LENGTH: dict[str, int] = {c: 200 for c in TEXT_COLUMNS}
MAX_LENGTH.update(
    {
        "fault_description": 2000,
        "notes": 4000,
        "recipient_address": 300,
        "site_address": 300,
        "serial_number": 2000,  # a cell may list many SNs
        "claim_ref": 64,
        "rma_code": 64,
        "account_id": 64,
    }
)
MIN_FAULT_DESCRIPTION = 5

LABELS: dict[str, str] = {
    "claim_ref": "Claim reference",
    "account_id": "Account ID",
    "rma_code": "RMA code",
    "serial_number": "Serial number",
    "product_model": "Product model",
    "fault_description": "Fault description",
    "error_code": "Error code",
    "installation_date": "Installation date",
    "fault_date": "Fault date",
    "recipient_name": "Recipient name",
    "recipient_company": "Recipient company",
    "recipient_phone": "Recipient phone",
    "recipient_email": "Recipient e-mail",
    "recipient_address": "Recipient address",
    "recipient_city": "Recipient city",
    "recipient_postcode": "Recipient postcode",
    "recipient_country": "Recipient country",
    "site_address": "Site address",
    "site_city": "Site city",
    "site_postcode": "Site postcode",
    "site_country": "Site country",
    "notes": "Notes",
}

_ALIASES: dict[str, tuple[str, ...]] = {
    "claim_ref": ("claim reference", "claim ref", "your reference", "reference", "ref", "claim no",
                  "claim number", "claim id"),
    "account_id": ("account", "account id", "account no", "account number", "customer id"),
    "rma_code": ("rma code", "rma", "code", "replacement code", "rma number", "rma no"),
    "serial_number": ("sn", "s n", "serial no", "serial number", "serial", "serial numbers", "sns",
                      "serial nr"),
    "product_model": ("model", "product", "product model", "device model", "type"),
    "fault_description": ("fault", "fault description", "problem", "problem description",
                          "description", "issue", "defect"),
    "error_code": ("error", "error code", "fault code", "error message"),
    "installation_date": ("installation date", "installed", "install date", "installed on",
                          "date of installation", "commissioning date"),
    "fault_date": ("fault date", "failure date", "date of fault", "failed on", "fault occurred"),
    "recipient_name": ("recipient", "recipient name", "contact", "contact name", "name"),
    "recipient_company": ("company", "recipient company", "company name"),
    "recipient_phone": ("phone", "recipient phone", "telephone", "tel", "phone number", "mobile"),
    "recipient_email": ("email", "e mail", "recipient email", "recipient e mail", "mail"),
    "recipient_address": ("address", "recipient address", "street", "delivery address"),
    "recipient_city": ("city", "recipient city", "town"),
    "recipient_postcode": ("postcode", "post code", "zip", "zip code", "postal code",
                           "recipient postcode", "recipient zip"),
    "recipient_country": ("country", "recipient country"),
    "site_address": ("site address", "installation address", "site street"),
    "site_city": ("site city", "installation city", "site town"),
    "site_postcode": ("site postcode", "site post code", "site zip", "installation postcode",
                      "site postal code"),
    "site_country": ("site country", "installation country"),
    "notes": ("notes", "note", "comments", "comment", "remarks", "supplementary information"),
}

#: The columns rejections.xlsx puts before the submitter's own: the row number in the file as
#: sent, and what is wrong with it. A header naming both is a corrected report sent back;
#: those two columns are then dropped as ours, not warned about as UNKNOWN_COLUMN.
REPORT_ROW = "Row"
REPORT_ERRORS = "Errors"
REPORT_COLUMNS: tuple[str, ...] = (REPORT_ROW, REPORT_ERRORS)

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def header_key(text: object) -> str:
    """Fold a header to lower-case letters and digits: case, spaces and punctuation ignored."""
    return _NON_ALNUM.sub("", str(text).casefold())


HEADER_INDEX: dict[str, str] = {}
for _column in CANONICAL:
    HEADER_INDEX[header_key(_column)] = _column
    HEADER_INDEX[header_key(LABELS[_column])] = _column
    for _alias in _ALIASES[_column]:
        HEADER_INDEX[header_key(_alias)] = _column


def canonical_name(header: object) -> str | None:
    """The canonical column a header names, or None when it is not recognised."""
    if header is None:
        return None
    return HEADER_INDEX.get(header_key(header))

