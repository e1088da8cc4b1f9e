"""SPEC §3 (origin) and §4 steps 2 and 3: which account files each row, and may it file."""

from __future__ import annotations

from rma.config import Settings
from rma.domain.rules.decide import Policy
from tests.rules import NOW, accounts, claim, codes, codes_of, frame, reference, run


def threshold(level: str) -> Policy:
    """The policy under RMA_ELIGIBILITY_THRESHOLD=level."""
    return Settings(eligibility_threshold=level).policy(NOW)


def hits(decision, code: str) -> list[tuple[int, str]]:
    found = decision.issues[decision.issues["code"] == code]
    return list(zip(found["row"], found["column"], strict=True))


def accepted(decision) -> bool:
    return decision.claims_rejected == 0 and decision.claims_accepted == len(decision.rows)


def rejected(decision) -> bool:
    return decision.claims_accepted == 0 and decision.claims_rejected == len(decision.rows)


GOOD_CODE = {"code_key": "K7QXP3MZ", "account_id": "I-OTHER"}


# --- UNKNOWN_ACCOUNT ------------------------------------------------------------------------

def test_a_batch_from_an_unregistered_origin_is_rejected_as_unknown_account():
    decision = run(frame(claim(), claim(serial_number="SN100002")), origin="NOBODY")
    assert [row for row, _ in hits(decision, "UNKNOWN_ACCOUNT")] == [2, 3]
    assert rejected(decision)


def test_a_row_naming_an_unregistered_account_in_a_batch_without_origin_is_rejected():
    decision = run(frame(claim(account_id="NOBODY"),
                         claim(account_id="D-001", serial_number="SN100002")), origin=None)
    assert hits(decision, "UNKNOWN_ACCOUNT") == [(2, "account_id")]
    assert decision.rejected_rows == [2]
    assert decision.claims_accepted == 1


def test_a_registered_account_named_in_another_case_is_known():
    decision = run(frame(claim(account_id="d-001")), origin=None)
    assert "UNKNOWN_ACCOUNT" not in codes_of(decision)
    assert accepted(decision)
    assert decision.accepted.loc[0, "account"] == "D-001"


# --- ACCOUNT_INACTIVE ---------------------------------------------------------------------

def test_a_batch_from_an_inactive_account_is_rejected():
    decision = run(frame(claim()), origin="X-OFF")
    assert codes_of(decision) == {"ACCOUNT_INACTIVE"}
    assert rejected(decision)


def test_a_row_naming_an_inactive_account_in_a_batch_without_origin_is_rejected():
    decision = run(frame(claim(account_id="X-OFF")), origin=None)
    assert hits(decision, "ACCOUNT_INACTIVE") == [(2, "account_id")]
    assert rejected(decision)


def test_an_active_account_is_not_inactive():
    decision = run(frame(claim()), origin="D-001")
    assert "ACCOUNT_INACTIVE" not in codes_of(decision)
    assert accepted(decision)


def test_an_inactive_installer_is_not_also_asked_for_a_code():
    ref = reference(accounts=accounts(("I-OFF", "installer", "bronze", False)))
    decision = run(frame(claim()), origin="I-OFF", ref=ref)
    assert codes_of(decision) == {"ACCOUNT_INACTIVE"}
    assert rejected(decision)


# --- ACCOUNT_MISMATCH -----------------------------------------------------------------------

def test_an_account_id_naming_another_account_than_the_origin_is_a_mismatch():
    decision = run(frame(claim(account_id="D-001"),
                         claim(account_id="I-GOLD", serial_number="SN100002")), origin="D-001")
    assert hits(decision, "ACCOUNT_MISMATCH") == [(3, "account_id")]
    assert decision.rejected_rows == [3]
    assert decision.claims_accepted == 1


def test_a_file_cannot_raise_its_privileges_by_naming_a_gold_account():
    decision = run(frame(claim(account_id="I-GOLD")), origin="I-OTHER")
    assert {"ACCOUNT_MISMATCH", "CODE_REQUIRED"} <= codes_of(decision)
    assert rejected(decision)


def test_an_account_id_equal_to_the_origin_ignoring_case_is_no_mismatch():
    decision = run(frame(claim(account_id="d-001"), claim(serial_number="SN100002")),
                   origin="D-001")
    assert "ACCOUNT_MISMATCH" not in codes_of(decision)
    assert accepted(decision)


# --- batches without origin ---------------------------------------------------------------

def test_a_batch_without_origin_files_each_row_for_its_own_account():
    decision = run(frame(claim(account_id="D-001"),
                         claim(account_id="I-GOLD", serial_number="SN100002"),
                         claim(account_id="I-OTHER", serial_number="SN100003")), origin=None)
    assert list(decision.rows["account"]) == ["D-001", "I-GOLD", "I-OTHER"]
    assert hits(decision, "CODE_REQUIRED") == [(4, "rma_code")]
    assert "ACCOUNT_MISMATCH" not in codes_of(decision)
    assert decision.rejected_rows == [4]
    assert list(decision.accepted["account"]) == ["D-001", "I-GOLD"]


def test_a_row_without_account_id_in_a_batch_without_origin_is_missing_its_account():
    decision = run(frame(claim(account_id=None)), origin=None)
    assert hits(decision, "MISSING_FIELD") == [(2, "account_id")]
    assert rejected(decision)


def test_a_batch_with_origin_needs_no_account_id_column_value():
    decision = run(frame(claim(account_id=None)), origin="D-001")
    assert decision.issues.empty
    assert accepted(decision)
    assert decision.accepted.loc[0, "account"] == "D-001"


def test_a_claim_ref_used_by_two_accounts_of_one_batch_makes_two_claims():
    decision = run(frame(claim(account_id="D-001", claim_ref="C-1"),
                         claim(account_id="I-GOLD", claim_ref="C-1", serial_number="SN100002")),
                   origin=None)
    assert decision.claims_accepted == 2


# --- CODE_REQUIRED (eligibility) ------------------------------------------------------------

def test_an_installer_below_gold_without_a_code_is_rejected():
    decision = run(frame(claim()), origin="I-SILVER")
    assert hits(decision, "CODE_REQUIRED") == [(2, "rma_code")]
    assert rejected(decision)


def test_a_bronze_installer_without_a_code_is_rejected():
    decision = run(frame(claim(rma_code="   ")), origin="I-OTHER")
    assert hits(decision, "CODE_REQUIRED") == [(2, "rma_code")]
    assert rejected(decision)


def test_an_installer_without_a_partner_level_needs_a_code():
    ref = reference(accounts=accounts(("I-NEW", "installer", None, True)))
    decision = run(frame(claim()), origin="I-NEW", ref=ref)
    assert hits(decision, "CODE_REQUIRED") == [(2, "rma_code")]
    assert rejected(decision)


def test_an_installer_below_gold_with_a_valid_code_is_accepted():
    decision = run(frame(claim(rma_code="K7QX-P3MZ")), origin="I-OTHER",
                   ref=reference(codes=codes(GOOD_CODE)))
    assert "CODE_REQUIRED" not in codes_of(decision)
    assert accepted(decision)


def test_a_gold_installer_without_a_code_is_accepted():
    decision = run(frame(claim()), origin="I-GOLD")
    assert "CODE_REQUIRED" not in codes_of(decision)
    assert accepted(decision)


def test_a_platinum_installer_without_a_code_is_accepted():
    ref = reference(accounts=accounts(("I-PLAT", "installer", "platinum", True)))
    decision = run(frame(claim()), origin="I-PLAT", ref=ref)
    assert "CODE_REQUIRED" not in codes_of(decision)
    assert accepted(decision)


def test_a_distributor_without_a_code_is_accepted():
    decision = run(frame(claim()), origin="D-001")
    assert "CODE_REQUIRED" not in codes_of(decision)
    assert accepted(decision)


def test_one_code_on_any_row_covers_the_whole_claim():
    decision = run(frame(claim(claim_ref="C-1", rma_code=None),
                         claim(claim_ref="C-1", rma_code="K7QXP3MZ", serial_number="SN100002")),
                   origin="I-OTHER", ref=reference(codes=codes(GOOD_CODE)))
    assert "CODE_REQUIRED" not in codes_of(decision)
    assert decision.claims_accepted == 1


# --- the threshold is configuration ---------------------------------------------------------

def test_a_lower_threshold_lets_a_silver_installer_file_without_a_code():
    decision = run(frame(claim()), origin="I-SILVER", policy=threshold("silver"))
    assert "CODE_REQUIRED" not in codes_of(decision)
    assert accepted(decision)


def test_a_lower_threshold_still_asks_a_bronze_installer_for_a_code():
    decision = run(frame(claim()), origin="I-OTHER", policy=threshold("silver"))
    assert hits(decision, "CODE_REQUIRED") == [(2, "rma_code")]
    assert rejected(decision)


def test_a_platinum_threshold_asks_a_gold_installer_for_a_code():
    decision = run(frame(claim()), origin="I-GOLD", policy=threshold("platinum"))
    assert hits(decision, "CODE_REQUIRED") == [(2, "rma_code")]
    assert rejected(decision)


def test_a_platinum_threshold_never_asks_a_distributor_for_a_code():
    decision = run(frame(claim()), origin="D-001", policy=threshold("platinum"))
    assert "CODE_REQUIRED" not in codes_of(decision)
    assert accepted(decision)
