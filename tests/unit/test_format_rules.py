"""SPEC §3 and §4 steps 1 and 6: the form of every value sent and the resolved claim's
completeness. Each rule has a case that triggers it and a near miss that must not."""

from __future__ import annotations

import datetime as dt

from rma.domain.rules.normalise import normalise
from tests.rules import claim, codes, codes_of, frame, reference, run


def hits(decision, code: str) -> list[tuple[int, str]]:
    """(row, column) of every issue with ``code``."""
    found = decision.issues[decision.issues["code"] == code]
    return list(zip(found["row"], found["column"], strict=True))


def accepted(decision) -> bool:
    return decision.claims_accepted == 1 and decision.claims_rejected == 0


def rejected(decision) -> bool:
    return decision.claims_accepted == 0 and decision.claims_rejected == 1


def resolved(decision, column: str, row: int = 2) -> object:
    return decision.rows.loc[row, column]


# --- the baseline -----------------------------------------------------------------------

def test_a_complete_valid_claim_is_accepted_without_any_issue():
    decision = run(frame(claim()))
    assert decision.issues.empty
    assert accepted(decision)


# --- MISSING_FIELD ------------------------------------------------------------------------

def test_a_blank_required_field_is_missing_and_the_claim_is_rejected():
    decision = run(frame(claim(recipient_city=None)))
    assert hits(decision, "MISSING_FIELD") == [(2, "recipient_city")]
    assert rejected(decision)


def test_a_whitespace_only_required_field_counts_as_blank():
    decision = run(frame(claim(site_address="   ")))
    assert hits(decision, "MISSING_FIELD") == [(2, "site_address")]
    assert rejected(decision)


def test_every_blank_required_field_is_listed_at_once():
    required = ["serial_number", "fault_description", "recipient_name", "recipient_phone",
                "recipient_address", "recipient_city", "recipient_postcode",
                "recipient_country", "site_address", "site_country"]
    decision = run(frame(claim(**dict.fromkeys(required))))
    assert sorted(hits(decision, "MISSING_FIELD")) == sorted((2, c) for c in required)
    assert rejected(decision)


def test_blank_optional_fields_are_not_missing():
    decision = run(frame(claim(recipient_company=None, recipient_email=None, error_code=None,
                               product_model=None, installation_date=None, fault_date=None,
                               site_city=None, site_postcode=None, notes=None)))
    assert "MISSING_FIELD" not in codes_of(decision)
    assert accepted(decision)


def test_a_blank_field_that_customer_service_registered_is_not_missing():
    ref = reference(codes=codes({"code_key": "K7QXP3MZ", "account_id": "I-OTHER",
                                 "recipient_city": "Hamburg"}))
    decision = run(frame(claim(rma_code="K7QXP3MZ", recipient_city=None)),
                   origin="I-OTHER", ref=ref)
    assert "MISSING_FIELD" not in codes_of(decision)
    assert accepted(decision)


# --- INVALID_SERIAL_NUMBER ----------------------------------------------------------------

def test_a_serial_number_shorter_than_six_characters_is_invalid():
    decision = run(frame(claim(serial_number="SN123")))
    assert hits(decision, "INVALID_SERIAL_NUMBER") == [(2, "serial_number")]
    assert rejected(decision)


def test_a_serial_number_longer_than_twenty_characters_is_invalid():
    decision = run(frame(claim(serial_number="A" * 21)))
    assert hits(decision, "INVALID_SERIAL_NUMBER") == [(2, "serial_number")]
    assert rejected(decision)


def test_a_serial_number_with_a_character_outside_letters_digits_and_dashes_is_invalid():
    decision = run(frame(claim(serial_number="SN_100001")))
    assert hits(decision, "INVALID_SERIAL_NUMBER") == [(2, "serial_number")]
    assert rejected(decision)


def test_serial_numbers_of_six_and_twenty_characters_with_dashes_in_lower_case_are_valid():
    decision = run(frame(claim(serial_number="ab-123"),
                         claim(serial_number="  hx5-2024-00000001  ")))
    assert "INVALID_SERIAL_NUMBER" not in codes_of(decision)
    assert decision.claims_accepted == 2
    assert list(decision.lines["serial_number"]) == ["AB-123", "HX5-2024-00000001"]


def test_one_bad_serial_number_among_several_in_a_cell_rejects_the_row():
    decision = run(frame(claim(serial_number="SN100001, SN1, SN100003")))
    assert hits(decision, "INVALID_SERIAL_NUMBER") == [(2, "serial_number")]
    assert rejected(decision)


def test_a_long_serial_number_excel_turned_into_a_number_is_invalid():
    decision = run(frame(claim(serial_number=1.2345678901234567e17)))
    assert hits(decision, "INVALID_SERIAL_NUMBER") == [(2, "serial_number")]
    assert rejected(decision)


# --- several SNs in one cell ---------------------------------------------------------------

def test_several_serial_numbers_in_one_cell_split_on_commas_semicolons_spaces_and_newlines():
    cell = "SN100001,SN100002; SN100003 SN100004\nSN100005\r\n\tsn100006"
    decision = run(frame(claim(serial_number=cell)))
    assert decision.issues.empty
    assert accepted(decision)
    assert list(decision.lines["serial_number"]) == [f"SN10000{i}" for i in range(1, 7)]
    assert set(decision.lines["row"]) == {2}


# --- INVALID_DATE ---------------------------------------------------------------------------

def test_an_unparseable_date_is_invalid():
    decision = run(frame(claim(installation_date="last spring")))
    assert hits(decision, "INVALID_DATE") == [(2, "installation_date")]
    assert rejected(decision)


def test_an_ambiguous_slashed_date_is_rejected_not_guessed():
    decision = run(frame(claim(fault_date="03/04/2025")))
    assert hits(decision, "INVALID_DATE") == [(2, "fault_date")]
    message = decision.issues.loc[decision.issues["code"] == "INVALID_DATE", "message"].iloc[0]
    assert "ambiguous" in message
    assert rejected(decision)


def test_a_dotted_date_that_does_not_exist_is_invalid_and_echoed_as_sent():
    decision = run(frame(claim(installation_date="31.02.2025")))
    assert hits(decision, "INVALID_DATE") == [(2, "installation_date")]
    issue = decision.issues[decision.issues["code"] == "INVALID_DATE"].iloc[0]
    assert issue["value"] == "31.02.2025"
    assert rejected(decision)


def test_an_iso_date_that_does_not_exist_is_invalid():
    decision = run(frame(claim(installation_date="2025-02-29")))
    assert hits(decision, "INVALID_DATE") == [(2, "installation_date")]
    assert rejected(decision)


def test_a_date_in_the_future_is_invalid():
    decision = run(frame(claim(fault_date="2026-06-02")))
    assert hits(decision, "INVALID_DATE") == [(2, "fault_date")]
    message = decision.issues.loc[decision.issues["code"] == "INVALID_DATE", "message"].iloc[0]
    assert "future" in message
    assert rejected(decision)


def test_a_date_of_today_is_not_in_the_future():
    decision = run(frame(claim(fault_date="2026-06-01")))
    assert "INVALID_DATE" not in codes_of(decision)
    assert accepted(decision)


def test_a_fault_before_the_installation_is_an_invalid_fault_date():
    decision = run(frame(claim(installation_date="2025-03-02", fault_date="2025-03-01")))
    assert hits(decision, "INVALID_DATE") == [(2, "fault_date")]
    assert rejected(decision)


def test_a_fault_on_the_day_of_installation_is_valid():
    decision = run(frame(claim(installation_date="2025-03-01", fault_date="01.03.2025")))
    assert "INVALID_DATE" not in codes_of(decision)
    assert accepted(decision)


def test_an_unreadable_installation_date_does_not_make_the_fault_date_wrong():
    decision = run(frame(claim(installation_date="spring 2025", fault_date="2025-03-01")))
    assert hits(decision, "INVALID_DATE") == [(2, "installation_date")]


def test_a_dotted_date_is_accepted_and_stored_as_iso():
    decision = run(frame(claim(installation_date="1.3.2025", fault_date="15.01.2026")))
    assert decision.issues.empty
    assert accepted(decision)
    assert resolved(decision, "installation_date") == "2025-03-01"
    assert resolved(decision, "fault_date") == "2026-01-15"


def test_real_spreadsheet_dates_are_accepted_without_a_warning():
    decision = run(frame(claim(installation_date=dt.date(2025, 3, 1),
                               fault_date=dt.datetime(2026, 1, 15))),
                   )
    assert decision.issues.empty
    assert accepted(decision)
    assert resolved(decision, "installation_date") == "2025-03-01"
    assert resolved(decision, "fault_date") == "2026-01-15"


def test_a_real_date_in_the_future_is_invalid():
    decision = run(frame(claim(fault_date=dt.date(2027, 1, 1))))
    assert hits(decision, "INVALID_DATE") == [(2, "fault_date")]
    assert rejected(decision)


# --- INVALID_EMAIL ----------------------------------------------------------------------------

def test_an_email_without_a_domain_suffix_is_invalid():
    decision = run(frame(claim(recipient_email="anna@example")))
    assert hits(decision, "INVALID_EMAIL") == [(2, "recipient_email")]
    assert rejected(decision)


def test_an_email_without_an_at_sign_is_invalid():
    decision = run(frame(claim(recipient_email="anna.example.com")))
    assert hits(decision, "INVALID_EMAIL") == [(2, "recipient_email")]
    assert rejected(decision)


def test_a_well_formed_email_is_valid():
    decision = run(frame(claim(recipient_email=" anna.schmidt+rma@solar-partner.de ")))
    assert "INVALID_EMAIL" not in codes_of(decision)
    assert accepted(decision)


# --- INVALID_PHONE and E.164 ---------------------------------------------------------------

def test_a_phone_that_is_not_a_number_is_invalid():
    decision = run(frame(claim(recipient_phone="call the site manager")))
    assert hits(decision, "INVALID_PHONE") == [(2, "recipient_phone")]
    assert rejected(decision)


def test_a_phone_too_short_to_be_a_number_is_invalid():
    decision = run(frame(claim(recipient_phone="+49 1")))
    assert hits(decision, "INVALID_PHONE") == [(2, "recipient_phone")]
    assert rejected(decision)


def test_an_international_phone_is_stored_as_e164():
    decision = run(frame(claim(recipient_phone="+49 (30) 123-4567")))
    assert "INVALID_PHONE" not in codes_of(decision)
    assert accepted(decision)
    assert decision.accepted.loc[0, "recipient_phone"] == "+49301234567"


def test_a_phone_with_double_zero_prefix_is_stored_as_e164():
    decision = run(frame(claim(recipient_phone="0049 30 1234567")))
    assert accepted(decision)
    assert resolved(decision, "recipient_phone") == "+49301234567"


def test_a_national_phone_is_read_with_the_recipient_country():
    decision = run(frame(claim(recipient_phone="030 1234567", recipient_country="DE")))
    assert "INVALID_PHONE" not in codes_of(decision)
    assert accepted(decision)
    assert resolved(decision, "recipient_phone") == "+49301234567"


# --- INVALID_COUNTRY --------------------------------------------------------------------------

def test_an_unknown_country_is_invalid():
    decision = run(frame(claim(recipient_country="Atlantis")))
    assert hits(decision, "INVALID_COUNTRY") == [(2, "recipient_country")]
    assert rejected(decision)


def test_an_unknown_site_country_code_is_invalid():
    decision = run(frame(claim(site_country="XX")))
    assert hits(decision, "INVALID_COUNTRY") == [(2, "site_country")]
    assert rejected(decision)


def test_countries_by_name_alpha3_and_lower_case_are_stored_as_alpha2():
    decision = run(frame(claim(recipient_country="Germany", site_country="aut"),
                         claim(serial_number="SN100002", recipient_country="de",
                               recipient_phone="+43 1 2345678", site_country="Austria")))
    assert "INVALID_COUNTRY" not in codes_of(decision)
    assert decision.claims_accepted == 2
    assert list(decision.rows["recipient_country"]) == ["DE", "DE"]
    assert list(decision.rows["site_country"]) == ["AT", "AT"]


# --- INVALID_TEXT -----------------------------------------------------------------------------

def test_a_text_longer_than_its_limit_is_invalid():
    decision = run(frame(claim(recipient_name="A" * 201)))
    assert hits(decision, "INVALID_TEXT") == [(2, "recipient_name")]
    assert rejected(decision)


def test_a_text_at_its_limit_is_valid():
    decision = run(frame(claim(recipient_name="A" * 200)))
    assert "INVALID_TEXT" not in codes_of(decision)
    assert accepted(decision)


def test_a_fault_description_longer_than_2000_characters_is_invalid():
    decision = run(frame(claim(fault_description="x" * 2001)))
    assert hits(decision, "INVALID_TEXT") == [(2, "fault_description")]
    assert rejected(decision)


def test_a_fault_description_of_2000_characters_is_valid():
    decision = run(frame(claim(fault_description="x" * 2000)))
    assert "INVALID_TEXT" not in codes_of(decision)
    assert accepted(decision)


def test_a_fault_description_shorter_than_five_characters_is_invalid():
    decision = run(frame(claim(fault_description="dead")))
    assert hits(decision, "INVALID_TEXT") == [(2, "fault_description")]
    message = decision.issues.loc[decision.issues["code"] == "INVALID_TEXT", "message"].iloc[0]
    assert "too short" in message
    assert rejected(decision)


def test_a_fault_description_of_five_characters_is_valid():
    decision = run(frame(claim(fault_description="fault")))
    assert "INVALID_TEXT" not in codes_of(decision)
    assert accepted(decision)


def test_a_text_with_a_control_character_is_invalid():
    decision = run(frame(claim(recipient_address="Hauptstr.\x00 1", notes="bell\x07")))
    assert sorted(hits(decision, "INVALID_TEXT")) == [(2, "notes"), (2, "recipient_address")]
    assert rejected(decision)


def test_line_breaks_and_tabs_in_a_text_are_not_control_characters():
    decision = run(frame(claim(fault_description="Shuts down at noon.\r\nError IE 01\tagain",
                               notes="first line\nsecond line")))
    assert "INVALID_TEXT" not in codes_of(decision)
    assert accepted(decision)


# --- VALUE_AS_TEXT (a warning: the claim is still accepted) -------------------------------

def test_a_postcode_stored_as_a_number_is_a_warning_and_the_claim_is_accepted():
    decision = run(frame(claim(recipient_postcode=1067)))
    assert hits(decision, "VALUE_AS_TEXT") == [(2, "recipient_postcode")]
    assert accepted(decision)
    # DE postcodes are 5 digits: the zero the number lost is put back
    assert resolved(decision, "recipient_postcode") == "01067"


def test_a_phone_stored_as_a_number_is_a_warning():
    decision = run(frame(claim(recipient_phone=301234567.0, recipient_country="DE")))
    assert hits(decision, "VALUE_AS_TEXT") == [(2, "recipient_phone")]
    assert accepted(decision)
    assert resolved(decision, "recipient_phone") == "+49301234567"


def test_a_serial_number_stored_as_a_number_is_a_warning():
    decision = run(frame(claim(serial_number=12345678)))
    assert hits(decision, "VALUE_AS_TEXT") == [(2, "serial_number")]
    assert accepted(decision)
    assert list(decision.lines["serial_number"]) == ["12345678"]


def test_a_date_in_a_text_column_is_a_warning():
    decision = run(frame(claim(error_code=dt.datetime(2025, 1, 2))))
    assert hits(decision, "VALUE_AS_TEXT") == [(2, "error_code")]
    assert accepted(decision)


def test_a_postcode_sent_as_text_with_its_leading_zero_is_not_a_warning():
    decision = run(frame(claim(recipient_postcode="01067")))
    assert "VALUE_AS_TEXT" not in codes_of(decision)
    assert resolved(decision, "recipient_postcode") == "01067"


def test_a_real_date_in_a_date_column_is_not_a_warning():
    _, warnings = normalise(frame(claim(installation_date=dt.date(2025, 3, 1))))
    assert warnings.empty


def test_only_the_cells_holding_numbers_are_warned_about():
    decision = run(frame(claim(recipient_postcode="10115"),
                         claim(serial_number="SN100002", recipient_postcode=10115)))
    assert hits(decision, "VALUE_AS_TEXT") == [(3, "recipient_postcode")]
    assert decision.claims_accepted == 2


# --- lazy validation ----------------------------------------------------------------------

def test_every_format_error_of_every_row_is_reported_at_once():
    decision = run(frame(claim(serial_number="X", recipient_email="nope"),
                         claim(serial_number="SN100002", fault_date="tomorrow",
                               recipient_country="Narnia"),
                         claim(serial_number="SN100003")))
    assert sorted(zip(decision.issues["row"], decision.issues["code"], strict=True)) == [
        (2, "INVALID_EMAIL"), (2, "INVALID_SERIAL_NUMBER"),
        (3, "INVALID_COUNTRY"), (3, "INVALID_DATE")]
    assert decision.rejected_rows == [2, 3]
    assert decision.claims_accepted == 1
