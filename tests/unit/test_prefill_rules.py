"""SPEC §4 step 5: a valid code's Customer Service fields fill the claim; CS values win and
a different submitted value goes to the notes with a PREFILL_CONFLICT warning."""

from __future__ import annotations

import pandas as pd

from tests.rules import claim, codes, codes_of, frame, reference, run

CS = {
    "code_key": "K7QXP3MZ", "code": "K7QX-P3MZ", "account_id": "I-OTHER",
    "recipient_name": "Anna Schmidt", "recipient_phone": "+49 30 1234567",
    "recipient_address": "Hauptstr. 1", "recipient_city": "Berlin",
    "recipient_postcode": "10115", "recipient_country": "Germany",
    "site_address": "Feldweg 2", "site_country": "DE",
    "fault_description": "Inverter shows IE 01 and shuts down",
}
BLANK_CS_FIELDS = {name: None for name in CS if name not in ("code_key", "code", "account_id")}


def decide_for(*rows, origin: str = "I-OTHER", cs: dict | None = None, **ref_overrides):
    records = [cs or CS, {"code_key": "S1LVER22", "account_id": "I-SILVER",
                          "recipient_city": "Munich", "site_address": "Silver site 9"}]
    ref = reference(codes=codes(*records), **ref_overrides)
    return run(frame(*rows), origin=origin, ref=ref)


def hits(decision, code: str) -> list[tuple[int, str]]:
    found = decision.issues[decision.issues["code"] == code]
    return list(zip(found["row"], found["column"], strict=True))


def record(decision) -> pd.Series:
    assert decision.claims_accepted == 1 and decision.claims_rejected == 0
    return decision.accepted.iloc[0]


def test_customer_service_values_fill_the_blank_fields():
    decision = decide_for(claim(rma_code="K7QXP3MZ", **BLANK_CS_FIELDS))
    assert decision.issues.empty
    claim_record = record(decision)
    assert claim_record["recipient_name"] == "Anna Schmidt"
    assert claim_record["recipient_city"] == "Berlin"
    assert claim_record["fault_description"] == CS["fault_description"]


def test_customer_service_values_are_normalised_like_submitted_ones():
    decision = decide_for(claim(rma_code="K7QXP3MZ", **BLANK_CS_FIELDS))
    claim_record = record(decision)
    assert claim_record["recipient_phone"] == "+49301234567"
    assert claim_record["recipient_country"] == "DE"


def test_a_different_submitted_value_loses_to_customer_service_and_goes_to_the_notes():
    decision = decide_for(claim(rma_code="K7QXP3MZ", recipient_city="Potsdam",
                                notes="Call before delivery"))
    assert hits(decision, "PREFILL_CONFLICT") == [(2, "recipient_city")]
    warning = decision.issues[decision.issues["code"] == "PREFILL_CONFLICT"].iloc[0]
    assert warning["value"] == "Potsdam"
    assert "Berlin" in warning["message"]
    claim_record = record(decision)
    assert claim_record["recipient_city"] == "Berlin"
    assert "Call before delivery" in claim_record["notes"]
    assert "Potsdam" in claim_record["notes"]


def test_every_conflicting_value_is_kept_in_the_notes_and_the_claim_is_still_accepted():
    decision = decide_for(claim(rma_code="K7QXP3MZ", recipient_city="Potsdam",
                                site_address="Waldweg 7"))
    assert sorted(hits(decision, "PREFILL_CONFLICT")) == [(2, "recipient_city"),
                                                          (2, "site_address")]
    assert codes_of(decision) == {"PREFILL_CONFLICT"}
    claim_record = record(decision)
    assert claim_record["site_address"] == "Feldweg 2"
    assert "Potsdam" in claim_record["notes"] and "Waldweg 7" in claim_record["notes"]


def test_values_equal_but_for_case_and_spaces_give_no_conflict():
    decision = decide_for(claim(rma_code="K7QXP3MZ", recipient_name="  ANNA  schmidt ",
                                recipient_city="berlin", recipient_address="hauptstr.  1"))
    assert "PREFILL_CONFLICT" not in codes_of(decision)
    claim_record = record(decision)
    assert claim_record["recipient_name"] == "Anna Schmidt"
    assert pd.isna(claim_record["notes"])


def test_a_phone_and_country_written_another_way_give_no_conflict():
    decision = decide_for(claim(rma_code="K7QXP3MZ", recipient_phone="030 1234567",
                                recipient_country="deu", site_country="Germany"))
    assert "PREFILL_CONFLICT" not in codes_of(decision)
    assert record(decision)["recipient_phone"] == "+49301234567"


def test_the_submitter_fills_what_customer_service_left_blank():
    cs = {"code_key": "K7QXP3MZ", "account_id": "I-OTHER", "recipient_name": "CS Name"}
    decision = decide_for(claim(rma_code="K7QXP3MZ", recipient_name=None,
                                recipient_city="Leipzig", site_city="Halle"), cs=cs)
    assert decision.issues.empty
    claim_record = record(decision)
    assert claim_record["recipient_name"] == "CS Name"
    assert claim_record["recipient_city"] == "Leipzig"
    assert claim_record["site_city"] == "Halle"


def test_a_code_owned_by_another_account_never_prefills():
    decision = decide_for(claim(rma_code="S1LVER22", recipient_city=None, site_address=None))
    assert hits(decision, "CODE_INVALID") == [(2, "rma_code")]
    assert sorted(hits(decision, "MISSING_FIELD")) == [(2, "recipient_city"),
                                                       (2, "site_address")]
    assert "PREFILL_CONFLICT" not in codes_of(decision)
    assert decision.rows.loc[2, "recipient_city"] is None
    assert decision.claims_rejected == 1


def test_another_accounts_code_never_overrides_a_submitted_value():
    decision = decide_for(claim(rma_code="S1LVER22", recipient_city="Leipzig"))
    assert "PREFILL_CONFLICT" not in codes_of(decision)
    assert decision.rows.loc[2, "recipient_city"] == "Leipzig"


def test_an_unknown_code_never_prefills():
    decision = decide_for(claim(rma_code="ZZZZZZZZ", recipient_city=None))
    assert hits(decision, "MISSING_FIELD") == [(2, "recipient_city")]
    assert decision.rows.loc[2, "recipient_city"] is None


def test_a_locked_account_gets_no_prefill_even_from_its_own_code():
    decision = decide_for(claim(rma_code="K7QXP3MZ", recipient_city=None),
                          invalid_attempts={"I-OTHER": 5})
    assert {"CODE_LOCKED", "MISSING_FIELD"} <= codes_of(decision)
    assert decision.rows.loc[2, "recipient_city"] is None


def test_a_code_on_one_row_prefills_every_row_of_the_claim():
    decision = decide_for(claim(claim_ref="C-1", rma_code="K7QXP3MZ", **BLANK_CS_FIELDS),
                          claim(claim_ref="C-1", serial_number="SN100002", **BLANK_CS_FIELDS))
    assert decision.issues.empty
    assert list(decision.rows["recipient_city"]) == ["Berlin", "Berlin"]
    assert record(decision)["code_key"] == "K7QXP3MZ"
