"""SPEC §2 (code matching) and §4 step 4: RMA codes — validity, ownership, coverage and the
lock-out after five invalid tries."""

from __future__ import annotations

import datetime as dt

from tests.rules import NOW, claim, codes, codes_of, frame, reference, run


def hits(decision, code: str) -> list[tuple[int, str]]:
    found = decision.issues[decision.issues["code"] == code]
    return list(zip(found["row"], found["column"], strict=True))


def row_codes(decision) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for row, code in zip(decision.issues["row"], decision.issues["code"], strict=True):
        out.setdefault(int(row), set()).add(code)
    return out


def accepted(decision) -> bool:
    return decision.claims_rejected == 0 and decision.claims_accepted >= 1


def rejected(decision) -> bool:
    return decision.claims_accepted == 0 and decision.claims_rejected >= 1


CODES = codes(
    {"code_key": "K7QXP3MZ", "code": "K7QX-P3MZ", "account_id": "I-OTHER"},
    {"code_key": "M4RT9WQZ", "code": "M4RT-9WQZ", "account_id": "I-OTHER"},
    {"code_key": "S1LVER22", "account_id": "I-SILVER"},
    {"code_key": "EXP1RED2", "account_id": "I-OTHER", "expires_at": NOW - dt.timedelta(days=1)},
    {"code_key": "EXPSILV2", "account_id": "I-SILVER",
     "expires_at": NOW - dt.timedelta(days=1)},
    {"code_key": "SOON0001", "account_id": "I-OTHER",
     "expires_at": NOW + dt.timedelta(minutes=1)},
    {"code_key": "REVOKED2", "account_id": "I-OTHER", "status": "revoked"},
    {"code_key": "REDEEMED", "account_id": "I-OTHER", "status": "redeemed"},
    {"code_key": "COVERS12", "account_id": "I-OTHER", "serial_numbers": "sn100001;SN100002"},
    {"code_key": "DISTR001", "account_id": "D-001"},
    {"code_key": "DISTEXP1", "account_id": "D-001", "expires_at": NOW - dt.timedelta(hours=1)},
)


def decide_for(*rows, origin: str | None = "I-OTHER", invalid_attempts=None):
    ref = reference(codes=CODES, invalid_attempts=invalid_attempts or {})
    return run(frame(*rows), origin=origin, ref=ref)


def sn(i: int) -> str:
    return f"SN{300000 + i}"


# --- CODE_INVALID ---------------------------------------------------------------------------

def test_an_unknown_code_is_invalid():
    decision = decide_for(claim(rma_code="ZZZZ-ZZZZ"))
    assert hits(decision, "CODE_INVALID") == [(2, "rma_code")]
    assert rejected(decision)


def test_another_accounts_code_is_invalid_in_the_same_words_as_an_unknown_one():
    decision = decide_for(claim(rma_code="S1LVER22"),
                          claim(rma_code="ZZZZZZZZ", serial_number="SN100002"))
    assert hits(decision, "CODE_INVALID") == [(2, "rma_code"), (3, "rma_code")]
    messages = decision.issues.loc[decision.issues["code"] == "CODE_INVALID", "message"]
    assert messages.nunique() == 1
    assert rejected(decision)


def test_an_expired_code_of_another_account_is_invalid_not_expired():
    decision = decide_for(claim(rma_code="EXPSILV2"))
    assert codes_of(decision) == {"CODE_INVALID"}
    assert rejected(decision)


def test_a_code_matches_ignoring_case_spaces_and_dashes():
    decision = decide_for(claim(rma_code="k7qx p3mz"),
                          claim(rma_code=" m4-rt9w-qz ", serial_number="SN100002"))
    assert "CODE_INVALID" not in codes_of(decision)
    assert decision.claims_accepted == 2
    assert list(decision.accepted["code_key"]) == ["K7QXP3MZ", "M4RT9WQZ"]


def test_two_different_codes_in_one_claim_are_invalid():
    decision = decide_for(claim(claim_ref="C-1", rma_code="K7QXP3MZ"),
                          claim(claim_ref="C-1", rma_code="M4RT9WQZ", serial_number="SN100002"))
    assert hits(decision, "CODE_INVALID") == [(3, "rma_code")]
    assert decision.claims_rejected == 1
    assert decision.rejected_rows == [2, 3]


# --- a code is checked whoever gives it -------------------------------------------------------

def test_a_distributor_that_gives_an_unknown_code_gets_it_checked():
    decision = decide_for(claim(rma_code="ZZZZZZZZ"), origin="D-001")
    assert hits(decision, "CODE_INVALID") == [(2, "rma_code")]
    assert rejected(decision)


def test_a_distributor_that_gives_an_expired_code_gets_it_checked():
    decision = decide_for(claim(rma_code="DISTEXP1"), origin="D-001")
    assert hits(decision, "CODE_EXPIRED") == [(2, "rma_code")]
    assert rejected(decision)


def test_a_gold_installer_that_gives_another_accounts_code_gets_it_checked():
    decision = decide_for(claim(rma_code="K7QXP3MZ"), origin="I-GOLD")
    assert hits(decision, "CODE_INVALID") == [(2, "rma_code")]
    assert rejected(decision)


def test_a_distributor_that_gives_its_own_valid_code_is_accepted():
    decision = decide_for(claim(rma_code="DISTR001"), origin="D-001")
    assert decision.issues.empty
    assert accepted(decision)


# --- CODE_EXPIRED ---------------------------------------------------------------------------

def test_an_expired_code_is_rejected():
    decision = decide_for(claim(rma_code="EXP1RED2"))
    assert hits(decision, "CODE_EXPIRED") == [(2, "rma_code")]
    assert rejected(decision)


def test_a_code_that_expires_in_a_minute_is_still_valid():
    decision = decide_for(claim(rma_code="SOON0001"))
    assert "CODE_EXPIRED" not in codes_of(decision)
    assert accepted(decision)


# --- CODE_REVOKED ---------------------------------------------------------------------------

def test_a_revoked_code_is_rejected():
    decision = decide_for(claim(rma_code="REVOKED2"))
    assert hits(decision, "CODE_REVOKED") == [(2, "rma_code")]
    assert rejected(decision)


def test_an_issued_code_is_not_revoked():
    decision = decide_for(claim(rma_code="K7QXP3MZ"))
    assert "CODE_REVOKED" not in codes_of(decision)
    assert accepted(decision)


# --- CODE_USED ------------------------------------------------------------------------------

def test_an_already_redeemed_code_is_used():
    decision = decide_for(claim(rma_code="REDEEMED"))
    assert hits(decision, "CODE_USED") == [(2, "rma_code")]
    assert rejected(decision)


def test_the_second_claim_using_one_code_in_a_batch_is_used():
    decision = decide_for(claim(rma_code="K7QXP3MZ"),
                          claim(rma_code="k7qx-p3mz", serial_number="SN100002"))
    assert hits(decision, "CODE_USED") == [(3, "rma_code")]
    assert decision.rejected_rows == [3]
    assert decision.claims_accepted == 1
    assert list(decision.accepted["first_row"]) == [2]


def test_rows_of_one_claim_repeating_its_code_use_it_once():
    decision = decide_for(claim(claim_ref="C-1", rma_code="K7QXP3MZ"),
                          claim(claim_ref="C-1", rma_code="K7QX-P3MZ", serial_number="SN100002"))
    assert "CODE_USED" not in codes_of(decision)
    assert decision.claims_accepted == 1


def test_another_accounts_try_with_a_code_does_not_use_it_up_for_its_owner():
    decision = decide_for(claim(account_id="I-SILVER", rma_code="K7QXP3MZ"),
                          claim(account_id="I-OTHER", rma_code="K7QXP3MZ",
                                serial_number="SN100002"),
                          origin=None)
    assert hits(decision, "CODE_INVALID") == [(2, "rma_code")]
    assert "CODE_USED" not in codes_of(decision)
    assert decision.rejected_rows == [2]
    assert list(decision.accepted["account"]) == ["I-OTHER"]


# --- CODE_SN_MISMATCH ------------------------------------------------------------------------

def test_an_sn_the_code_does_not_cover_is_a_mismatch():
    decision = decide_for(claim(rma_code="COVERS12", serial_number="SN100001 SN100003"))
    assert hits(decision, "CODE_SN_MISMATCH") == [(2, "serial_number")]
    issue = decision.issues[decision.issues["code"] == "CODE_SN_MISMATCH"].iloc[0]
    assert issue["value"] == "SN100003"
    assert rejected(decision)


def test_one_uncovered_sn_rejects_the_whole_claim():
    decision = decide_for(claim(claim_ref="C-1", rma_code="COVERS12", serial_number="SN100001"),
                          claim(claim_ref="C-1", serial_number="SN100009"))
    assert hits(decision, "CODE_SN_MISMATCH") == [(3, "serial_number")]
    assert decision.rejected_rows == [2, 3]
    assert decision.claims_rejected == 1


def test_sns_the_code_covers_are_no_mismatch_whatever_their_case():
    decision = decide_for(claim(rma_code="COVERS12", serial_number="sn100002, SN100001"))
    assert "CODE_SN_MISMATCH" not in codes_of(decision)
    assert accepted(decision)


def test_a_code_without_a_list_of_sns_covers_any_sn():
    decision = decide_for(claim(rma_code="K7QXP3MZ", serial_number="SN999999 SN888888"))
    assert "CODE_SN_MISMATCH" not in codes_of(decision)
    assert accepted(decision)


# --- CODE_LOCKED ----------------------------------------------------------------------------

def test_after_five_invalid_codes_in_a_batch_every_further_code_is_locked_even_a_valid_one():
    rows = [claim(rma_code=f"BAD{i:05d}", serial_number=sn(i)) for i in range(6)]
    rows.append(claim(rma_code="K7QXP3MZ", serial_number=sn(99)))
    decision = decide_for(*rows)
    assert hits(decision, "CODE_INVALID") == [(r, "rma_code") for r in range(2, 7)]
    assert hits(decision, "CODE_LOCKED") == [(7, "rma_code"), (8, "rma_code")]
    assert row_codes(decision)[8] == {"CODE_LOCKED"}
    assert decision.claims_accepted == 0
    assert decision.claims_rejected == 7


def test_the_attempts_list_every_invalid_and_locked_try():
    rows = [claim(rma_code=f"BAD{i:05d}", serial_number=sn(i)) for i in range(6)]
    rows.append(claim(rma_code="K7QXP3MZ", serial_number=sn(99)))
    rows.append(claim(serial_number=sn(98), rma_code="EXP1RED2"))
    attempts = decide_for(*rows).attempts
    assert list(attempts["outcome"]) == ["CODE_INVALID"] * 5 + ["CODE_LOCKED"] * 3
    assert list(attempts["code_key"]) == [f"BAD{i:05d}" for i in range(6)] + [
        "K7QXP3MZ", "EXP1RED2"]
    assert set(attempts["account_id"]) == {"I-OTHER"}


def test_the_attempts_do_not_list_good_or_expired_codes():
    decision = decide_for(claim(rma_code="K7QXP3MZ"),
                          claim(rma_code="EXP1RED2", serial_number="SN100002"),
                          claim(rma_code="ZZZZZZZZ", serial_number="SN100003"))
    assert list(decision.attempts["outcome"]) == ["CODE_INVALID"]
    assert list(decision.attempts["code_key"]) == ["ZZZZZZZZ"]


def test_invalid_attempts_before_the_batch_count_toward_the_lock():
    decision = decide_for(claim(rma_code="ZZZZZZZ1"),
                          claim(rma_code="ZZZZZZZ2", serial_number="SN100002"),
                          claim(rma_code="K7QXP3MZ", serial_number="SN100003"),
                          invalid_attempts={"I-OTHER": 3})
    assert hits(decision, "CODE_INVALID") == [(2, "rma_code"), (3, "rma_code")]
    assert hits(decision, "CODE_LOCKED") == [(4, "rma_code")]
    assert decision.claims_accepted == 0


def test_an_account_already_locked_gets_even_a_valid_code_locked():
    decision = decide_for(claim(rma_code="K7QXP3MZ"), invalid_attempts={"I-OTHER": 5})
    assert codes_of(decision) == {"CODE_LOCKED"}
    assert rejected(decision)


def test_an_account_with_a_stored_lock_gets_a_valid_code_locked_with_no_recent_attempts():
    ref = reference(codes=CODES, invalid_attempts={"I-OTHER": 0},
                    code_locked=frozenset({"I-OTHER"}))
    decision = run(frame(claim(rma_code="K7QXP3MZ")), origin="I-OTHER", ref=ref)
    assert codes_of(decision) == {"CODE_LOCKED"}
    assert rejected(decision)


def test_the_accounts_a_batch_locks_are_those_reaching_the_limit_not_yet_locked():
    import pandas as pd

    from rma.domain.rules.codes import reaching_lockout

    attempts = pd.DataFrame({
        "account_id": ["A", "A", "B", "C", "C", "D"],
        "outcome": ["CODE_INVALID", "CODE_INVALID", "CODE_INVALID", "CODE_INVALID",
                    "CODE_LOCKED", "CODE_INVALID"]})
    prior = {"A": 3, "B": 3, "C": 4, "D": 9}
    assert reaching_lockout(attempts, prior, frozenset({"D"}), 5) == ["A", "C"]
    assert reaching_lockout(attempts.iloc[:0], prior, frozenset(), 5) == []


def test_four_invalid_attempts_do_not_lock_a_valid_code():
    decision = decide_for(claim(rma_code="K7QXP3MZ"), invalid_attempts={"I-OTHER": 4})
    assert "CODE_LOCKED" not in codes_of(decision)
    assert accepted(decision)


def test_five_expired_codes_do_not_lock_the_account():
    rows = [claim(rma_code="EXP1RED2", serial_number=sn(i)) for i in range(5)]
    rows.append(claim(rma_code="K7QXP3MZ", serial_number=sn(99)))
    decision = decide_for(*rows)
    assert "CODE_LOCKED" not in codes_of(decision)
    assert hits(decision, "CODE_EXPIRED") == [(r, "rma_code") for r in range(2, 7)]
    assert decision.claims_accepted == 1
    assert list(decision.accepted["first_row"]) == [7]


def test_revoked_used_and_mismatched_codes_do_not_lock_the_account():
    rows = [claim(rma_code="REVOKED2", serial_number=sn(1)),
            claim(rma_code="REVOKED2", serial_number=sn(2)),
            claim(rma_code="REDEEMED", serial_number=sn(3)),
            claim(rma_code="REDEEMED", serial_number=sn(4)),
            claim(rma_code="COVERS12", serial_number=sn(5)),
            claim(rma_code="K7QXP3MZ", serial_number=sn(99))]
    decision = decide_for(*rows, invalid_attempts={"I-OTHER": 4})
    assert "CODE_LOCKED" not in codes_of(decision)
    assert list(decision.accepted["first_row"]) == [7]


def test_another_accounts_invalid_attempts_do_not_lock_this_account():
    rows = [claim(account_id="I-SILVER", rma_code=f"BAD{i:05d}", serial_number=sn(i))
            for i in range(6)]
    rows.append(claim(account_id="I-OTHER", rma_code="K7QXP3MZ", serial_number=sn(99)))
    decision = decide_for(*rows, origin=None, invalid_attempts={"D-001": 9})
    assert hits(decision, "CODE_LOCKED") == [(7, "rma_code")]
    assert row_codes(decision).get(8) is None
    assert list(decision.accepted["account"]) == ["I-OTHER"]


def test_a_locked_account_may_still_file_claims_that_give_no_code():
    decision = decide_for(claim(), origin="I-GOLD", invalid_attempts={"I-GOLD": 7})
    assert "CODE_LOCKED" not in codes_of(decision)
    assert accepted(decision)


# --- no claim gives a code (the shortcut must give what the full computation gives) --------


def test_no_claim_with_a_code_has_the_outcomes_the_full_computation_gives():
    import pandas as pd

    from rma.domain.rules.codes import _outcomes, code_outcomes, uncovered_serials

    none = pd.DataFrame({"claim_key": pd.Series(dtype="int64"),
                         "first_row": pd.Series(dtype="int64"),
                         "account": pd.Series(dtype=object), "code_key": pd.Series(dtype=object)})
    pd.testing.assert_frame_equal(code_outcomes(none, CODES, {}, 5, NOW),
                                  _outcomes(none, CODES, {}, 5, NOW))
    lines = pd.DataFrame({"row": pd.Series(dtype=object), "serial_number": pd.Series(dtype=object),
                          "code_key": pd.Series(dtype=object)})
    covered = CODES.set_index("code_key")["serial_numbers"]
    shortcut = uncovered_serials(lines, covered)
    assert shortcut.dtype == bool and shortcut.empty
    decision = decide_for(claim(serial_number=sn(1)), origin="D-001")
    assert accepted(decision)
