"""Small parts of the portal and the API (SPEC §9): rate settings, a claim sent as JSON as the
one-row file it is posted as, upload names made safe, the console line of a checked batch."""

from __future__ import annotations

import csv
import io

import pytest

from rma.config import load_settings
from rma.config.declare import Rate
from rma.domain.vocabulary.results import BatchResult
from rma.errors import BadClaim, ConfigError
from rma.service.uploads import claim_file, content_name, upload_name


@pytest.mark.parametrize(("raw", "rate"), [
    ("10/15m", Rate(10, 900)), (" 60 / 1h ", Rate(60, 3600)), ("5/30S", Rate(5, 30)),
    ("1/2d", Rate(1, 172800))])
def test_a_rate_is_a_count_per_period(raw, rate):
    assert load_settings({"RMA_RATE_UPLOADS": raw}).portal.upload_rate == rate


@pytest.mark.parametrize("raw", ["10", "0/1h", "10/0m", "ten/1h", "10/1w", "-1/1h"])
def test_a_rate_that_is_not_a_count_per_period_is_a_one_line_configuration_error(raw):
    with pytest.raises(ConfigError, match="RMA_RATE_SIGNIN must be a count per period"):
        load_settings({"RMA_RATE_SIGNIN": raw})


def test_rates_read_as_they_are_written_in_the_reference():
    assert [str(Rate(10, 900)), str(Rate(60, 3600)), str(Rate(3, 86400)), str(Rate(2, 45))] \
        == ["10/15m", "60/1h", "3/1d", "2/45s"]


def rows_of(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def test_a_json_claim_is_one_row_its_serial_numbers_in_one_cell_canonical_columns_first():
    data = claim_file({"notes": "=cmd|' /C calc'!A0", "claim_ref": "J-1", "extra": 5,
                       "serial_numbers": ["SN000001", "SN000002"], "recipient_postcode": "01234",
                       "error_code": None})
    [row] = rows_of(data)
    assert list(row) == ["claim_ref", "serial_number", "error_code", "recipient_postcode",
                         "notes", "extra"]
    assert row == {"claim_ref": "J-1", "serial_number": "SN000001\nSN000002", "error_code": "",
                   "recipient_postcode": "01234", "notes": "=cmd|' /C calc'!A0", "extra": "5"}
    assert claim_file({"claim_ref": "J-1", "serial_numbers": ["SN000001"]}) == \
        claim_file({"serial_numbers": ["SN000001"], "claim_ref": "J-1"})  # the same content
    assert content_name(data).startswith("claim-") and content_name(data).endswith(".csv")


@pytest.mark.parametrize("claim", [
    [], "x", {"serial_numbers": "SN000001"}, {"serial_numbers": [1]},
    {"notes": {"nested": True}}, {"notes": True}, {},
    {"serial_number": "SN1", "serial_numbers": ["SN2"]}])
def test_a_json_claim_that_is_not_an_object_of_columns_is_refused(claim):
    with pytest.raises(BadClaim):
        claim_file(claim)


@pytest.mark.parametrize(("sent", "kept"), [
    ("../x.xlsx", "x.xlsx"), ("..\\..\\windows\\evil.csv", "evil.csv"),
    ("/etc/passwd", "passwd"), ("", "upload-1"), ("..", "upload-1"),
    ("claims\x00.csv", "claims.csv"), ("CON.csv", "_CON.csv")])
def test_an_uploaded_name_is_a_safe_base_name(sent, kept):
    assert upload_name(sent) == kept


def test_a_checked_batch_says_on_its_line_that_nothing_was_posted():
    line = BatchResult(source="x.csv", status="checked", account_id="D-001", batch_id="B-1",
                       claims_accepted=2, claims_rejected=0).line()
    assert line == "x.csv (D-001): checked, nothing posted: 2 would be accepted, 0 rejected"
