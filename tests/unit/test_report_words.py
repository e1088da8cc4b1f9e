"""What the reports and the console say about reasons: a how-to-fix sentence for every code,
and the main reasons of a batch counted in rejected claims."""

from __future__ import annotations

from rma.adapters.reports.words import HOW_TO_FIX, how_to_fix, meaning
from rma.domain.vocabulary.reasons import Reason, Terms
from rma.domain.vocabulary.results import BatchResult, main_reasons, rejected_claims_by_reason


def _rejection(row: int, code: str, claim_ref: str | None = None) -> dict[str, object]:
    return {"sheet": "Claims", "row": row, "claim_ref": claim_ref or "", "serial_number": "",
            "column": "", "code": code, "message": "..."}


def test_every_reason_code_has_a_how_to_fix_sentence():
    assert set(HOW_TO_FIX) == set(Reason)
    for code, sentence in HOW_TO_FIX.items():
        assert sentence.endswith(".") and len(sentence) < 160, code
    assert how_to_fix("NOT_A_CODE") == ""


def test_a_claim_rejected_for_two_reasons_counts_under_both_and_a_claim_of_two_rows_once():
    rejections = [
        _rejection(2, "INVALID_EMAIL", "C-1"),
        _rejection(2, "INVALID_DATE", "C-1"),            # C-1: two reasons
        _rejection(3, "DUPLICATE_SN_IN_BATCH", "C-2"),
        _rejection(4, "DUPLICATE_SN_IN_BATCH", "C-2 "),  # the same claim, its second row
        _rejection(5, "DUPLICATE_SN_IN_BATCH"),          # no claim_ref: a claim of its row
        _rejection(6, "DUPLICATE_SN_IN_BATCH"),
    ]
    assert rejected_claims_by_reason(rejections) == [
        ("DUPLICATE_SN_IN_BATCH", 3), ("INVALID_EMAIL", 1), ("INVALID_DATE", 1)]


def test_the_console_names_the_three_main_reasons_and_counts_the_others():
    codes = ["MISSING_FIELD", "MISSING_FIELD", "INVALID_PHONE", "CODE_INVALID", "CODE_USED",
             "INVALID_COUNTRY"]
    rejections = [_rejection(row, code) for row, code in enumerate(codes, start=2)]
    assert main_reasons(rejections) == (
        "2 MISSING_FIELD, 1 INVALID_PHONE, 1 CODE_INVALID and 2 other reasons")
    line = BatchResult(source="a.csv", status="posted", account_id="D-001",
                       claims_accepted=1, claims_rejected=6, rejections=rejections).line()
    assert line == ("a.csv (D-001): 1 accepted, 6 rejected: 2 MISSING_FIELD, 1 INVALID_PHONE, "
                    "1 CODE_INVALID and 2 other reasons")
    clean = BatchResult(source="b.csv", status="posted", claims_accepted=2).line()
    assert clean == "b.csv: 2 accepted, 0 rejected"


def test_the_words_name_the_terms_they_are_given_and_read_as_before_under_the_defaults():
    for code in Reason:  # every sentence fills (no stray braces), under any terms
        assert "{" not in how_to_fix(code) + meaning(code), code
    assert how_to_fix("CODE_INVALID").endswith(
        "after 5 wrong codes in 24 hours the account is locked.")
    assert meaning("CODE_REQUIRED").startswith("Installers below the Gold level need")
    strict = Terms(threshold="platinum", lockout_attempts=1, lockout_hours=48)
    assert how_to_fix("CODE_INVALID", strict).endswith(
        "after 1 wrong code in 48 hours the account is locked.")
    assert meaning("CODE_REQUIRED", strict).startswith("Installers below the Platinum level")
    assert "(the limit is 1)" in meaning("CODE_LOCKED", strict)
