"""SPEC §3 and §4: rows sharing a claim_ref form one claim, a claim is accepted or rejected
whole, and an accepted claim becomes one record with one line per SN."""

from __future__ import annotations

import pandas as pd

from tests.rules import claim, frame, run


def test_rows_sharing_a_claim_ref_form_one_claim():
    decision = run(frame(claim(claim_ref="C-1", serial_number="SN100001"),
                         claim(claim_ref="C-1", serial_number="SN100002"),
                         claim(claim_ref="C-1", serial_number="SN100003")))
    assert decision.issues.empty
    assert decision.claims_accepted == 1
    assert decision.claims_rejected == 0
    assert decision.accepted.loc[0, "claim_ref"] == "C-1"
    assert decision.rows["claim_key"].nunique() == 1


def test_rows_with_blank_claim_ref_are_a_claim_each():
    decision = run(frame(claim(claim_ref=None, serial_number="SN100001"),
                         claim(claim_ref=None, serial_number="SN100002"),
                         claim(claim_ref="  ", serial_number="SN100003")))
    assert decision.claims_accepted == 3
    assert list(decision.accepted["first_row"]) == [2, 3, 4]


def test_rows_with_different_claim_refs_are_different_claims():
    decision = run(frame(claim(claim_ref="C-1", serial_number="SN100001"),
                         claim(claim_ref="C-2", serial_number="SN100002"),
                         claim(claim_ref="C-1", serial_number="SN100003")))
    assert decision.claims_accepted == 2
    assert list(decision.accepted["claim_ref"]) == ["C-1", "C-2"]
    lines = decision.lines
    assert list(lines.loc[lines["claim_key"] == decision.accepted.loc[0, "claim_key"],
                          "serial_number"]) == ["SN100001", "SN100003"]


def test_one_bad_row_rejects_the_whole_claim_with_its_good_rows():
    decision = run(frame(claim(claim_ref="C-1", serial_number="SN100001"),
                         claim(claim_ref="C-1", serial_number="BAD"),
                         claim(claim_ref="C-2", serial_number="SN100003")))
    bad = decision.issues[decision.issues["code"] == "INVALID_SERIAL_NUMBER"]
    assert list(bad["row"]) == [3]
    assert decision.rejected_rows == [2, 3]
    assert decision.claims_rejected == 1
    assert decision.claims_accepted == 1
    assert list(decision.accepted["claim_ref"]) == ["C-2"]
    assert list(decision.lines["serial_number"]) == ["SN100003"]


def test_claims_rejected_counts_claims_not_rows():
    decision = run(frame(claim(claim_ref="C-1", serial_number="SN100001", recipient_email="x"),
                         claim(claim_ref="C-1", serial_number="SN100002", recipient_email="y"),
                         claim(claim_ref="C-1", serial_number="SN100003"),
                         claim(serial_number="SN1")))
    assert decision.rejected_rows == [2, 3, 4, 5]
    assert decision.claims_rejected == 2
    assert decision.claims_accepted == 0


def test_a_claim_lists_all_the_errors_of_all_its_rows():
    decision = run(frame(claim(claim_ref="C-1", serial_number="SN1"),
                         claim(claim_ref="C-1", serial_number="SN100002", fault_date="soon")))
    assert sorted(zip(decision.issues["row"], decision.issues["code"], strict=True)) == [
        (2, "INVALID_SERIAL_NUMBER"), (3, "INVALID_DATE")]
    assert decision.claims_rejected == 1


def test_a_warning_on_one_row_does_not_reject_the_claim():
    decision = run(frame(claim(claim_ref="C-1", serial_number="SN100001"),
                         claim(claim_ref="C-1", serial_number="SN100002",
                               recipient_postcode=10115)))
    assert set(decision.issues["code"]) == {"VALUE_AS_TEXT"}
    assert decision.rejected_rows == []
    assert decision.claims_accepted == 1


def test_an_accepted_claim_takes_the_first_non_blank_value_of_each_field():
    decision = run(frame(
        claim(claim_ref="C-1", serial_number="SN100001", recipient_company=None,
              recipient_email=None),
        claim(claim_ref="C-1", serial_number="SN100002", recipient_company="Solar GmbH",
              recipient_email="first@solar.de", recipient_city="Potsdam"),
        claim(claim_ref="C-1", serial_number="SN100003", recipient_company="Other AG",
              recipient_email="second@solar.de")))
    assert decision.claims_accepted == 1
    record = decision.accepted.iloc[0]
    assert record["recipient_company"] == "Solar GmbH"
    assert record["recipient_email"] == "first@solar.de"
    assert record["recipient_city"] == "Berlin"
    assert record["first_row"] == 2


def test_continuation_rows_of_a_claim_may_leave_its_fields_blank():
    details = {name: None for name in (
        "fault_description", "recipient_name", "recipient_phone", "recipient_address",
        "recipient_city", "recipient_postcode", "recipient_country", "site_address",
        "site_country")}
    decision = run(frame(claim(claim_ref="C-1", serial_number="SN100001"),
                         claim(claim_ref="C-1", serial_number="SN100002", **details),
                         claim(claim_ref="C-1", serial_number="SN100003", **details)))
    assert decision.issues.empty
    assert decision.claims_accepted == 1
    assert decision.accepted.loc[0, "recipient_name"] == "Anna Schmidt"
    assert len(decision.lines) == 3


def test_a_field_blank_on_every_row_of_a_claim_is_missing():
    decision = run(frame(claim(claim_ref="C-1", serial_number="SN100001", site_address=None),
                         claim(claim_ref="C-1", serial_number="SN100002", site_address=None)))
    missing = decision.issues[decision.issues["code"] == "MISSING_FIELD"]
    assert set(missing["column"]) == {"site_address"}
    assert decision.claims_rejected == 1


def test_every_row_of_a_claim_needs_its_own_serial_number():
    decision = run(frame(claim(claim_ref="C-1", serial_number="SN100001"),
                         claim(claim_ref="C-1", serial_number=None)))
    missing = decision.issues[decision.issues["code"] == "MISSING_FIELD"]
    assert list(zip(missing["row"], missing["column"], strict=True)) == [(3, "serial_number")]
    assert decision.rejected_rows == [2, 3]


def test_the_notes_of_all_rows_of_a_claim_are_kept():
    decision = run(frame(claim(claim_ref="C-1", serial_number="SN100001", notes="Ring twice"),
                         claim(claim_ref="C-1", serial_number="SN100002"),
                         claim(claim_ref="C-1", serial_number="SN100003", notes="Dog on site")))
    notes = decision.accepted.loc[0, "notes"]
    assert "Ring twice" in notes and "Dog on site" in notes


def test_an_accepted_claim_has_one_line_per_serial_number():
    decision = run(frame(claim(claim_ref="C-1", serial_number="SN100001, SN100002"),
                         claim(claim_ref="C-1", serial_number="SN100003"),
                         claim(serial_number="SN100004\nSN100005")))
    lines = decision.lines
    assert list(lines["serial_number"]) == [f"SN10000{i}" for i in range(1, 6)]
    assert list(lines["row"]) == [2, 2, 3, 4, 4]
    keys = list(decision.accepted["claim_key"])
    assert list(lines["claim_key"]) == [keys[0]] * 3 + [keys[1]] * 2


def test_rejected_claims_have_no_lines_and_no_record():
    decision = run(frame(claim(claim_ref="C-1", serial_number="SN100001, SN100002",
                               recipient_country="Narnia")))
    assert decision.claims_accepted == 0
    assert decision.lines.empty
    assert decision.accepted.empty
    assert isinstance(decision.accepted, pd.DataFrame)


def test_accepted_claims_come_in_sheet_order():
    decision = run(frame(claim(claim_ref="C-9", serial_number="SN100001"),
                         claim(claim_ref="C-1", serial_number="SN100002"),
                         claim(claim_ref="C-9", serial_number="SN100003"), first_row=5))
    assert list(decision.accepted["claim_ref"]) == ["C-9", "C-1"]
    assert list(decision.accepted["first_row"]) == [5, 6]


def _one_row_claims() -> pd.DataFrame:
    """Resolved rows, one per claim, with blanks as None, a note, a prefilled value."""
    decision = run(frame(claim(claim_ref="C-1", serial_number="SN100001", notes="fragile"),
                         claim(claim_ref=None, serial_number="SN100002", error_code=None),
                         claim(claim_ref="C-3", serial_number="SN100003", notes=None)))
    assert decision.claims_accepted == 3
    return decision.rows


def test_one_row_claims_are_taken_as_they_are_exactly_as_grouping_gives():
    from rma.domain.rules.records import claim_records, grouped_claim_records

    rows = _one_row_claims()
    assert rows["claim_key"].is_unique
    pd.testing.assert_frame_equal(claim_records(rows), grouped_claim_records(rows))
    shuffled = rows.iloc[[2, 0, 1]]  # the sheet order comes from first_row, not the frame
    pd.testing.assert_frame_equal(claim_records(shuffled), grouped_claim_records(rows))


def test_one_row_claim_view_is_the_grouped_view():
    from rma.domain.rules.records import claim_view, grouped_claim_view

    rows = _one_row_claims()
    rows = rows.assign(recipient_city=[float("nan"), "Berlin", None])  # NaN is blank too
    view = claim_view(rows, rows["claim_key"])
    pd.testing.assert_frame_equal(view, grouped_claim_view(rows, rows["claim_key"]))
    assert view.loc[view.index[0], "recipient_city"] is None
