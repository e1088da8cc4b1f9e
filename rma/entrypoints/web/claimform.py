"""The claim form of the "file one claim" page (SPEC §3 columns as form fields): what it
shows, and the claim it sends (``rma.service.filing.file_claim``).

A field is named by its canonical column (``recipient_city``), its input's id the same; the
serial numbers are one textarea ``serial_numbers``, one SN per line. A field the RMA code's
Customer Service registered is shown, not asked for (the pipeline fills it from the code:
CS values win). Every rejection of the filed claim is put under the field it is about
(``serial_number`` under ``serial_numbers``); one about no field of the form is listed above it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from rma.domain.vocabulary.columns import LABELS, REQUIRED_AFTER_PREFILL

SERIALS = "serial_numbers"
#: the claim's columns on the form, in its order (the account is the signed-in one's)
FIELDS: tuple[str, ...] = (
    "claim_ref", SERIALS, "rma_code", "product_model", "fault_description", "error_code",
    "installation_date", "fault_date",
    "recipient_name", "recipient_company", "recipient_phone", "recipient_email",
    "recipient_address", "recipient_city", "recipient_postcode", "recipient_country",
    "site_address", "site_city", "site_postcode", "site_country", "notes",
)
TEXTAREAS = ("fault_description", "notes", SERIALS)
HINTS = {
    "installation_date": "YYYY-MM-DD or DD.MM.YYYY",
    "fault_date": "YYYY-MM-DD or DD.MM.YYYY",
    "recipient_phone": "international, e.g. +49 30 1234567",
    "recipient_country": "ISO code, e.g. DE",
    "site_country": "ISO code, e.g. DE",
    SERIALS: "one serial number per line",
    "rma_code": "only if Customer Service gave you one",
    "claim_ref": "your own reference (optional)",
}
#: what Customer Service registers beside the prefill fields (shown, never filled in)
CS_LABELS = {**LABELS, "assessment": "Customer Service assessment"}
#: the sections of the form, by the first field of each
SECTIONS = {"claim_ref": "The claim", "recipient_name": "Recipient",
            "site_address": "On site", "notes": "Supplementary information"}


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    value: str
    messages: list[str] = field(default_factory=list)
    required: bool = False
    hint: str = ""
    section: str = ""

    @property
    def textarea(self) -> bool:
        return self.name in TEXTAREAS

    @property
    def bad(self) -> bool:
        return bool(self.messages)


@dataclass(frozen=True)
class ClaimForm:
    """What the claim form shows: its fields (with their values and messages), the fields
    CS registered with the code (read-only), the messages about no field, the warnings."""

    fields: list[FormField]
    code: str = ""
    prefill: dict[str, str] = field(default_factory=dict)
    covered: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def prefill_shown(self) -> list[tuple[str, str, str]]:
        return [(name, CS_LABELS.get(name, name), value)
                for name, value in self.prefill.items()]


def claim_form(values: dict[str, str], code: dict[str, Any] | None = None,
               batch: dict[str, Any] | None = None) -> ClaimForm:
    """The form with ``values`` as sent; with the looked-up ``code`` (the installer's step 2)
    its prefill shown and not asked for; with the filed ``batch``'s rejections each under
    its field."""
    prefill = {k: str(v) for k, v in (code or {}).get("prefill", {}).items() if v not in
               (None, "")}
    asked = [name for name in FIELDS
             if name not in prefill and not (code and name == "rma_code")]
    messages, loose = _messages(batch, set(asked))
    error = (batch or {}).get("error") or {}
    if error.get("message"):  # a batch that could not be processed: about no field
        loose.insert(0, str(error["message"]))
    fields = [FormField(name, "Serial numbers" if name == SERIALS else LABELS[name],
                        values.get(name, ""), messages.get(name, []),
                        name == SERIALS or name in REQUIRED_AFTER_PREFILL, HINTS.get(name, ""),
                        SECTIONS.get(name, ""))
              for name in asked]
    warnings = [str(w["message"]) for w in (batch or {}).get("warnings", [])]
    return ClaimForm(fields, str((code or {}).get("code", "")), prefill,
                     list((code or {}).get("serial_numbers", [])), loose, warnings)


def _messages(batch: dict[str, Any] | None, names: set[str]
              ) -> tuple[dict[str, list[str]], list[str]]:
    """The batch's rejections by form field; those about no field of it, in a list."""
    by_field: dict[str, list[str]] = defaultdict(list)
    loose: list[str] = []
    for rejection in (batch or {}).get("rejections", []):
        column = str(rejection.get("column") or "")
        name = SERIALS if column == "serial_number" else column
        message = str(rejection.get("message", ""))
        if name in names:
            if message not in by_field[name]:
                by_field[name].append(message)
        elif message not in loose:
            loose.append(message)
    return dict(by_field), loose


def claim_of(form: dict[str, str], code: str = "") -> dict[str, Any]:
    """The claim a form sends: its non-blank fields of ``FIELDS``, the serial numbers one a
    line, and the RMA code of the installer's step 2 (``code``) when given."""
    claim: dict[str, Any] = {name: form[name].strip() for name in FIELDS
                             if name != SERIALS and form.get(name, "").strip()}
    if code:
        claim["rma_code"] = code
    claim[SERIALS] = [line.strip() for line in form.get(SERIALS, "").splitlines()
                      if line.strip()]
    return claim
