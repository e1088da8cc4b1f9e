"""The words a report uses for each reason code: its meaning and what the submitter does
about it, under the configured terms (threshold, lock-out)."""

from __future__ import annotations

from rma.config import Settings
from rma.domain.vocabulary.reasons import Reason, Terms

#: what a report says when it is not told the configured terms (the settings' defaults)
DEFAULT_TERMS = Settings().terms


#: What the submitter does about each reason, in a sentence: the Summary sheet lists it beside
#: the reason's meaning, so a distributor can correct the rows without calling anyone. Some
#: name the configured terms (``Terms.fill``'s placeholders): read them through ``how_to_fix``.
HOW_TO_FIX: dict[Reason, str] = {
    Reason.MISSING_FIELD: "Fill in the red cell. With an RMA code from Customer Service, what "
                          "they registered is filled in for you.",
    Reason.INVALID_SERIAL_NUMBER: "Copy the serial number from the type plate: 6 to 20 "
                                  "letters, digits or dashes; separate several with commas.",
    Reason.INVALID_DATE: "Write the date as YYYY-MM-DD (2025-04-03) or DD.MM.YYYY "
                         "(03.04.2025); not in the future, and the fault not before the "
                         "installation.",
    Reason.INVALID_EMAIL: "Correct the address (name@example.com) or leave the cell empty.",
    Reason.INVALID_PHONE: "Give the number with its country code, e.g. +49 30 1234567; format "
                          "the column as text so the + and leading zeros are kept.",
    Reason.INVALID_COUNTRY: "Use the two-letter country code (DE, AT, FR) or the country's "
                            "English name.",
    Reason.INVALID_TEXT: "Shorten the text (fault description 5 to 2000 characters, most "
                         "fields 200) and remove invisible characters copied from other "
                         "programs.",
    Reason.UNKNOWN_ACCOUNT: "Use the account ID Customer Service gave you; ask them if you do "
                            "not have one.",
    Reason.ACCOUNT_INACTIVE: "Ask Customer Service to reactivate the account, then send the "
                             "claims again.",
    Reason.ACCOUNT_MISMATCH: "Put your own account ID in the account column, or delete the "
                             "column: a file files claims for the account that sent it.",
    Reason.CODE_REQUIRED: "Call or e-mail Customer Service about the fault; enter the RMA code "
                          "they give you in the RMA code column.",
    Reason.CODE_INVALID: "Copy the code exactly from Customer Service's message (spaces and "
                         "dashes do not matter); after {wrong_codes} in {window} the account "
                         "is locked.",
    Reason.CODE_EXPIRED: "Ask Customer Service for a new code and enter it instead.",
    Reason.CODE_REVOKED: "Ask Customer Service why the code was revoked; they issue a new one "
                         "if the claim stands.",
    Reason.CODE_USED: "A code files one claim: ask Customer Service for a new code, or remove "
                      "the row if this claim was already filed.",
    Reason.CODE_SN_MISMATCH: "Check the serial number against the one you gave Customer "
                             "Service, or ask them for a code that covers it.",
    Reason.CODE_LOCKED: "Ask Customer Service to unlock your account's codes, then send the "
                        "claims again.",
    Reason.DUPLICATE_SN_IN_BATCH: "List each serial number once in the file: remove the extra "
                                  "row or correct the mistyped serial number.",
    Reason.SN_OPEN_CLAIM: "This product already has an open claim: do not file it again; ask "
                          "Customer Service if that claim is not yours.",
    Reason.DUPLICATE_CLAIM_REF: "This claim was already filed; a new claim needs a new claim "
                                "reference of your own.",
    Reason.PREFILL_CONFLICT: "Nothing to send again; tell Customer Service if your value is the "
                             "right one.",
    Reason.CLAIM_REF_MERGED: "Rows whose claim references differ only in capitals, dashes or "
                             "spacing were filed as one claim; give them distinct references "
                             "if you meant separate claims.",
    Reason.VALUE_AS_TEXT: "Check the value (a leading zero may be lost) and format such "
                          "columns as text in future files.",
    Reason.UNKNOWN_COLUMN: "If the column holds claim data, give it a header of the claim "
                           "template; otherwise nothing to do.",
    Reason.IGNORED_ATTACHMENT: "Attach claims as .xlsx or .csv files; other attachments are "
                               "not read.",
    Reason.UNSUPPORTED_FORMAT: "Save the file as .xlsx or .csv and send it again.",
    Reason.UNREADABLE_FILE: "Open the file, save it again as .xlsx or .csv and send it again.",
    Reason.NO_HEADER: "Put the column headers (Serial number, Fault description, ...) in one "
                      "row within the first 20 rows, or use the claim template.",
    Reason.TOO_LARGE: "Split the file into smaller files and send them one by one.",
    Reason.EMPTY_BATCH: "Add one claim per row below the header row.",
    Reason.UNKNOWN_SENDER: "Send from an address registered for your account, or ask Customer "
                           "Service to register this one.",
    Reason.DUPLICATE_BATCH: "Nothing to do: this file was processed before.",
    Reason.PROCESSING_ERROR: "Nothing to do: the file is processed again in the next run.",
}


def meaning(code: str, terms: Terms = DEFAULT_TERMS) -> str:
    """The plain words for a reason code under ``terms`` ('' outside the closed list)."""
    return terms.message(Reason(code)) if code in Reason.__members__ else ""


def how_to_fix(code: str, terms: Terms = DEFAULT_TERMS) -> str:
    """What the submitter does about a code, under ``terms`` ('' outside the closed list)."""
    return terms.fill(HOW_TO_FIX[Reason(code)]) if code in Reason.__members__ else ""
