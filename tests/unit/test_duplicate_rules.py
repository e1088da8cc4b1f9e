"""SPEC §4 step 7: an SN twice in the batch, an SN already under an open claim, a claim_ref
the same account already posted."""

from __future__ import annotations

import pandas as pd

from tests.rules import claim, codes_of, frame, reference, run


def hits(decision, code: str) -> list[tuple[int, str]]:
    found = decision.issues[decision.issues["code"] == code]
    return list(zip(found["row"], found["column"], strict=True))


def open_serials(*pairs: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(list(pairs), columns=["serial_number", "claim_id"])


def posted_refs(*triples: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(list(triples), columns=["account_id", "claim_ref", "claim_id"])


# --- DUPLICATE_SN_IN_BATCH ------------------------------------------------------------------

def test_an_sn_in_two_claims_of_a_batch_rejects_every_claim_involved():
    decision = run(frame(claim(serial_number="SN100001"),
                         claim(serial_number="SN100002"),
                         claim(serial_number="SN100003, SN100001")))
    assert hits(decision, "DUPLICATE_SN_IN_BATCH") == [(2, "serial_number"),
                                                       (4, "serial_number")]
    assert decision.rejected_rows == [2, 4]
    assert decision.claims_rejected == 2
    assert list(decision.accepted["first_row"]) == [3]


def test_an_sn_repeated_in_another_case_is_still_a_duplicate():
    decision = run(frame(claim(serial_number="SN100001"), claim(serial_number="sn100001")))
    assert [row for row, _ in hits(decision, "DUPLICATE_SN_IN_BATCH")] == [2, 3]
    assert decision.claims_accepted == 0


def test_an_sn_repeated_within_one_cell_is_a_duplicate():
    decision = run(frame(claim(serial_number="SN100001; SN100001")))
    assert hits(decision, "DUPLICATE_SN_IN_BATCH") == [(2, "serial_number")]
    assert decision.claims_rejected == 1


def test_an_sn_repeated_on_two_rows_of_one_claim_is_a_duplicate():
    decision = run(frame(claim(claim_ref="C-1", serial_number="SN100001"),
                         claim(claim_ref="C-1", serial_number="SN100001")))
    assert [row for row, _ in hits(decision, "DUPLICATE_SN_IN_BATCH")] == [2, 3]
    assert decision.claims_rejected == 1


def test_different_sns_in_a_batch_are_no_duplicates():
    decision = run(frame(claim(serial_number="SN100001 SN100002"),
                         claim(serial_number="SN100003"),
                         claim(serial_number="SN1000010")))
    assert "DUPLICATE_SN_IN_BATCH" not in codes_of(decision)
    assert decision.claims_accepted == 3


# --- SN_OPEN_CLAIM ----------------------------------------------------------------------------

def test_an_sn_already_in_an_open_claim_is_rejected():
    ref = reference(open_serials=open_serials(("SN100009", "RMA-2026-000042")))
    decision = run(frame(claim(serial_number="SN100001 sn100009")), ref=ref)
    assert hits(decision, "SN_OPEN_CLAIM") == [(2, "serial_number")]
    issue = decision.issues[decision.issues["code"] == "SN_OPEN_CLAIM"].iloc[0]
    assert issue["value"] == "SN100009"
    assert "RMA-2026-000042" in issue["message"]
    assert decision.claims_rejected == 1


def test_an_sn_without_an_open_claim_is_accepted():
    ref = reference(open_serials=open_serials(("SN100009", "RMA-2026-000042")))
    decision = run(frame(claim(serial_number="SN100001")), ref=ref)
    assert "SN_OPEN_CLAIM" not in codes_of(decision)
    assert decision.claims_accepted == 1


# --- DUPLICATE_CLAIM_REF ------------------------------------------------------------------

def test_a_claim_ref_the_account_already_posted_is_rejected():
    ref = reference(posted_refs=posted_refs(("D-001", "C-77", "RMA-2026-000001")))
    decision = run(frame(claim(claim_ref="C-77"),
                         claim(claim_ref="C-77", serial_number="SN100002"),
                         claim(claim_ref="C-78", serial_number="SN100003")), ref=ref)
    assert hits(decision, "DUPLICATE_CLAIM_REF") == [(2, "claim_ref"), (3, "claim_ref")]
    assert decision.rejected_rows == [2, 3]
    assert decision.claims_rejected == 1
    assert list(decision.accepted["claim_ref"]) == ["C-78"]


def test_a_claim_ref_posted_by_another_account_is_no_duplicate():
    ref = reference(posted_refs=posted_refs(("I-GOLD", "C-77", "RMA-2026-000001")))
    decision = run(frame(claim(claim_ref="C-77")), origin="D-001", ref=ref)
    assert "DUPLICATE_CLAIM_REF" not in codes_of(decision)
    assert decision.claims_accepted == 1


def test_in_a_batch_without_origin_a_claim_ref_is_checked_against_each_rows_account():
    ref = reference(posted_refs=posted_refs(("I-GOLD", "C-77", "RMA-2026-000001")))
    decision = run(frame(claim(account_id="D-001", claim_ref="C-77"),
                         claim(account_id="I-GOLD", claim_ref="C-77", serial_number="SN100002")),
                   origin=None, ref=ref)
    assert hits(decision, "DUPLICATE_CLAIM_REF") == [(3, "claim_ref")]
    assert list(decision.accepted["account"]) == ["D-001"]


def test_claims_without_a_claim_ref_are_never_duplicate_refs():
    ref = reference(posted_refs=posted_refs(("D-001", "C-77", "RMA-2026-000001")))
    decision = run(frame(claim(claim_ref=None), claim(serial_number="SN100002")), ref=ref)
    assert "DUPLICATE_CLAIM_REF" not in codes_of(decision)
    assert decision.claims_accepted == 2


# --- all errors of a claim are listed -----------------------------------------------------

def test_a_claim_with_several_duplicate_problems_lists_them_all():
    ref = reference(open_serials=open_serials(("SN100001", "RMA-2026-000042")),
                    posted_refs=posted_refs(("D-001", "C-77", "RMA-2026-000001")))
    decision = run(frame(claim(claim_ref="C-77", serial_number="SN100001"),
                         claim(serial_number="SN100001")), ref=ref)
    assert {"DUPLICATE_SN_IN_BATCH", "SN_OPEN_CLAIM", "DUPLICATE_CLAIM_REF"} == codes_of(
        decision)
    assert decision.claims_rejected == 2
