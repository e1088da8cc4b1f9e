"""Finding the header row and naming columns, on plain lists of rows."""

from __future__ import annotations

import datetime as dt

import pytest

from rma.adapters.readers.header import (
    column_letter,
    find_header,
    header_text,
    plan_columns,
    recognised,
)


def test_the_first_row_is_the_header_when_it_names_claim_columns():
    rows = [["Serial Number", "Fault description"], ["SN123456", "Broken"]]
    assert find_header(rows) == 0


def test_title_rows_above_the_header_are_skipped():
    rows = [
        ["Claims of Sonnenstrom GmbH"],
        ["Submitted 2025-09-20", None],
        [],
        ["SN", "Fault", "Name"],
        ["SN123456", "Broken", "Anna"],
    ]
    assert find_header(rows) == 3


def test_the_row_naming_the_most_columns_wins():
    rows = [
        ["SN", "Notes"],  # a legend row that happens to name two columns
        ["Claim ref", "SN", "Fault", "Recipient", "Country"],
        ["C-1", "SN123456", "Broken", "Anna", "DE"],
    ]
    assert find_header(rows) == 1


def test_on_a_tie_the_upper_row_wins():
    rows = [["SN", "Fault"], ["Serial No.", "Problem"]]
    assert find_header(rows) == 0


def test_a_header_without_a_serial_number_column_is_not_a_header():
    rows = [["Name", "Address", "City", "Country"], ["Anna", "Hauptstraße 1", "Berlin", "DE"]]
    assert find_header(rows) is None


def test_a_serial_number_column_alone_is_not_a_header():
    assert find_header([["Serial number", "Whatever"], ["SN123456", "x"]]) is None


def test_the_same_column_named_twice_counts_once():
    assert find_header([["SN", "Serial number"]]) is None


def test_only_the_first_20_rows_are_searched():
    rows: list[list[object]] = [["title"]] * 20 + [["SN", "Fault"]]
    assert find_header(rows) is None
    assert find_header(rows[1:]) == 19


def test_data_rows_and_numbers_are_never_a_header():
    rows = [[12345.0, dt.date(2025, 3, 1), True, None], ["SN123456", "Broken"]]
    assert find_header(rows) is None


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("SN", "serial_number"),
        ("Serial No.", "serial_number"),
        ("Serial Number", "serial_number"),
        ("  serial_number  ", "serial_number"),
        ("E-Mail", "recipient_email"),
        ("Post code", "recipient_postcode"),
        ("Fault Description", "fault_description"),
    ],
)
def test_aliases_are_recognised_ignoring_case_spaces_and_punctuation(header, canonical):
    assert recognised(["Claim ref", header]) == {"claim_ref", canonical}


def test_header_text_is_the_stripped_text_the_submitter_sees():
    assert header_text("  Serial No. ") == "Serial No."
    assert header_text(None) == ""
    assert header_text(2025.0) == "2025"
    assert header_text(2.5) == "2.5"
    assert header_text(dt.date(2025, 3, 1)) == "2025-03-01"


@pytest.mark.parametrize(("position", "letter"),
                         [(0, "A"), (5, "F"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA")])
def test_column_letters_follow_the_spreadsheet(position, letter):
    assert column_letter(position) == letter


def test_recognised_headers_map_to_canonical_columns_and_others_are_unknown():
    plan = plan_columns(["SN", "Fault", "Colour", "E-Mail", "Internal"], [True] * 5)
    assert plan.names == ["SN", "Fault", "Colour", "E-Mail", "Internal"]
    assert plan.columns == {"SN": "serial_number", "Fault": "fault_description",
                            "E-Mail": "recipient_email"}
    assert plan.unknown_columns == ["Colour", "Internal"]
    assert plan.positions == [0, 1, 2, 3, 4]


def test_a_blank_header_over_data_is_named_by_its_column_letter():
    plan = plan_columns(["SN", "Fault", None, None, None, "  "], [True, True, False, True, False,
                                                                   True])
    assert plan.names == ["SN", "Fault", "Column D", "Column F"]
    assert plan.positions == [0, 1, 3, 5]
    assert plan.unknown_columns == ["Column D", "Column F"]


def test_data_beyond_the_last_header_gets_a_column_name_too():
    plan = plan_columns(["SN", "Fault"], [True, True, False, True])
    assert plan.names == ["SN", "Fault", "Column D"]


def test_repeated_headers_are_made_unique():
    plan = plan_columns(["Notes", "SN", "Notes", "Notes"], [True] * 4)
    assert plan.names == ["Notes", "SN", "Notes (2)", "Notes (3)"]
    assert plan.columns == {"Notes": "notes", "SN": "serial_number"}
    assert plan.unknown_columns == ["Notes (2)", "Notes (3)"]


def test_a_made_up_name_never_collides_with_a_real_header():
    plan = plan_columns(["SN", "SN (2)", "SN", None, "Column D"], [True] * 5)
    assert plan.names == ["SN", "SN (2)", "SN (3)", "Column D", "Column D (2)"]


def test_when_two_headers_name_the_same_column_the_first_wins():
    plan = plan_columns(["Serial Number", "SN", "Fault"], [True, True, True])
    assert plan.columns == {"Serial Number": "serial_number", "Fault": "fault_description"}
    assert plan.unknown_columns == ["SN"]


def test_a_header_over_an_empty_column_is_kept():
    plan = plan_columns(["SN", "Fault", "Notes"], [True, True, False])
    assert plan.names == ["SN", "Fault", "Notes"]
    assert plan.columns["Notes"] == "notes"
