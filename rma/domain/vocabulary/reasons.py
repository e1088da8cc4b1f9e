"""The closed list of reason codes (SPEC §4) and the plain words each one stands for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    # format (steps 1 and 6)
    MISSING_FIELD = "MISSING_FIELD"
    INVALID_SERIAL_NUMBER = "INVALID_SERIAL_NUMBER"
    INVALID_DATE = "INVALID_DATE"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_PHONE = "INVALID_PHONE"
    INVALID_COUNTRY = "INVALID_COUNTRY"
    INVALID_TEXT = "INVALID_TEXT"
    # account (steps 2 and 3)
    UNKNOWN_ACCOUNT = "UNKNOWN_ACCOUNT"
    ACCOUNT_INACTIVE = "ACCOUNT_INACTIVE"
    ACCOUNT_MISMATCH = "ACCOUNT_MISMATCH"
    CODE_REQUIRED = "CODE_REQUIRED"
    # code (step 4)
    CODE_INVALID = "CODE_INVALID"
    CODE_EXPIRED = "CODE_EXPIRED"
    CODE_REVOKED = "CODE_REVOKED"
    CODE_USED = "CODE_USED"
    CODE_SN_MISMATCH = "CODE_SN_MISMATCH"
    CODE_LOCKED = "CODE_LOCKED"
    # duplicates (step 7)
    DUPLICATE_SN_IN_BATCH = "DUPLICATE_SN_IN_BATCH"
    SN_OPEN_CLAIM = "SN_OPEN_CLAIM"
    DUPLICATE_CLAIM_REF = "DUPLICATE_CLAIM_REF"
    # warnings: the claim is still accepted
    PREFILL_CONFLICT = "PREFILL_CONFLICT"
    VALUE_AS_TEXT = "VALUE_AS_TEXT"
    UNKNOWN_COLUMN = "UNKNOWN_COLUMN"
    IGNORED_ATTACHMENT = "IGNORED_ATTACHMENT"
    #: rows sharing a claim_ref form one claim (SPEC §3), the refs compared the way a person
    #: reads them; where they were written differently the submitter is told
    CLAIM_REF_MERGED = "CLAIM_REF_MERGED"
    # batch errors: nothing posted
    UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"
    UNREADABLE_FILE = "UNREADABLE_FILE"
    NO_HEADER = "NO_HEADER"
    TOO_LARGE = "TOO_LARGE"
    EMPTY_BATCH = "EMPTY_BATCH"
    UNKNOWN_SENDER = "UNKNOWN_SENDER"
    DUPLICATE_BATCH = "DUPLICATE_BATCH"
    #: the system failed, not the file (database down after the retries, a bug): the file
    #: stays waiting and the next run tries again
    PROCESSING_ERROR = "PROCESSING_ERROR"


WARNINGS: frozenset[Reason] = frozenset(
    {Reason.PREFILL_CONFLICT, Reason.VALUE_AS_TEXT, Reason.UNKNOWN_COLUMN,
     Reason.IGNORED_ATTACHMENT, Reason.CLAIM_REF_MERGED}
)

#: Default plain-words message per code; rules may give a more specific one. The codes whose
#: words name a configured value are in ``WORDED`` instead: ``Terms.message`` fills them in.
MESSAGES: dict[Reason, str] = {
    Reason.MISSING_FIELD: "This field is required and was left blank.",
    Reason.INVALID_SERIAL_NUMBER:
        "A serial number must be 6 to 20 characters: letters A-Z, digits and dashes.",
    Reason.INVALID_DATE: "The date is not valid.",
    Reason.INVALID_EMAIL: "The e-mail address is not valid.",
    Reason.INVALID_PHONE: "The phone number is not valid; give it with the country code, "
                          "e.g. +49 30 1234567.",
    Reason.INVALID_COUNTRY: "The country is not recognised; use a country name or ISO code "
                            "such as DE.",
    Reason.INVALID_TEXT: "The text is too long, too short or contains control characters.",
    Reason.UNKNOWN_ACCOUNT: "The account is not registered.",
    Reason.ACCOUNT_INACTIVE: "The account is not active.",
    Reason.ACCOUNT_MISMATCH: "The account ID does not match the account that sent this file.",
    Reason.CODE_INVALID: "The RMA code is not valid for this account.",
    Reason.CODE_EXPIRED: "The RMA code has expired; ask Customer Service for a new one.",
    Reason.CODE_REVOKED: "The RMA code has been revoked by Customer Service.",
    Reason.CODE_USED: "The RMA code has already been used for another claim.",
    Reason.CODE_SN_MISMATCH: "The RMA code does not cover this serial number.",
    Reason.DUPLICATE_SN_IN_BATCH: "The serial number appears more than once in this file.",
    Reason.SN_OPEN_CLAIM: "The serial number already has an open claim.",
    Reason.DUPLICATE_CLAIM_REF: "This claim reference was already filed by your account.",
    Reason.PREFILL_CONFLICT: "Customer Service registered a different value; theirs was used "
                             "and yours kept in the notes.",
    Reason.VALUE_AS_TEXT: "A number or date was given where text was expected; please format "
                          "the column as text.",
    Reason.UNKNOWN_COLUMN: "The column is not recognised and was ignored.",
    Reason.IGNORED_ATTACHMENT: "The attachment is not a claim spreadsheet and was ignored.",
    Reason.CLAIM_REF_MERGED: "This claim reference is written differently from another row of "
                             "the same claim; the rows were taken as one claim.",
    Reason.UNSUPPORTED_FORMAT: "Only .xlsx, .xlsm and .csv files can be processed.",
    Reason.UNREADABLE_FILE: "The file could not be read.",
    Reason.NO_HEADER: "No header row with claim columns was found in the first 20 rows.",
    Reason.TOO_LARGE: "The file exceeds the size limits.",
    Reason.EMPTY_BATCH: "The file holds no claims.",
    Reason.UNKNOWN_SENDER: "The sender is not a registered, active account address.",
    Reason.DUPLICATE_BATCH: "This file was already processed.",
    Reason.PROCESSING_ERROR: "The file could not be processed because of a fault on our side.",
}


#: Words that name the configured threshold or lock-out, with ``Terms.fill``'s placeholders
WORDED: dict[Reason, str] = {
    Reason.CODE_REQUIRED: "Installers below the {level} level need an RMA code from Customer "
                          "Service; please call or e-mail Customer Service first.",
    Reason.CODE_LOCKED: "Too many invalid RMA codes were tried from this account (the limit is "
                        "{attempts}); it is locked out of RMA codes until Customer Service "
                        "lifts the lock.",
}


@dataclass(frozen=True)
class Terms:
    """The configured values the decision applies and some words name: installers at or above
    ``threshold`` file without an RMA code; ``lockout_attempts`` invalid codes within
    ``lockout_hours`` lock an account out of codes. Passed in from the settings."""

    threshold: str
    lockout_attempts: int
    lockout_hours: int

    def fill(self, text: str) -> str:
        """``text`` with ``{level}`` (Gold), ``{attempts}`` (5), ``{wrong_codes}``
        (5 wrong codes) and ``{window}`` (24 hours) filled in."""
        return text.format(level=self.threshold.title(), attempts=self.lockout_attempts,
                           wrong_codes=_count(self.lockout_attempts, "wrong code"),
                           window=_count(self.lockout_hours, "hour"))

    def message(self, code: Reason) -> str:
        """The default plain words for ``code`` under these terms."""
        return self.fill(WORDED[code]) if code in WORDED else MESSAGES[code]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def is_warning(code: str) -> bool:
    return code in WARNINGS
