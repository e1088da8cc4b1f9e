"""The e-mail claim form: Label: value lines, --- between claims, quotes/signatures/history."""

from __future__ import annotations

from pathlib import Path

import pytest

from rma.adapters.mail.forms import form_sheet, has_form_labels
from rma.adapters.mail.labels import MAIL_HEADER_LABELS
from rma.domain.vocabulary.columns import CANONICAL, canonical_name
from tests.mailfactory import form_body, forwarded_body, outlook_reply_body, reply_body


def _sheet(body: str):
    return form_sheet(body, source=Path("m.form"), sha256="abc")


def _rows(body: str) -> dict[int, dict[str, object]]:
    sheet = _sheet(body)
    assert sheet is not None
    return sheet.sent.to_dict("index")


def test_two_claims_with_a_repeated_serial_number_become_rows_1_and_2():
    body = "Hello, our claims:\n\n" + form_body(
        {"Claim reference": "A-1", "SN": "SN100001", "Serial number": "SN100002",
         "Fault": "Display dark"},
        {"claim_ref": "A-2", "serial_number": "SN100003", "recipient_country": "DE"})
    sheet = _sheet(body)
    assert sheet is not None
    assert (sheet.sheet, sheet.header_row, sheet.file_format, sheet.sha256) == \
        ("e-mail form", 0, "mail", "abc")
    assert sheet.source == Path("m.form")
    assert list(sheet.sent.index) == [1, 2] and sheet.sent.index.name == "row"
    expected = ["claim_ref", "serial_number", "fault_description", "recipient_country"]
    assert list(sheet.sent.columns) == expected
    assert sheet.columns == {c: c for c in expected}
    assert all(sheet.sent[c].dtype == object for c in expected)
    row1, row2 = sheet.sent.loc[1], sheet.sent.loc[2]
    assert row1["serial_number"] == "SN100001\nSN100002"
    assert row1["recipient_country"] is None and row2["fault_description"] is None
    assert row2["serial_number"] == "SN100003"
    canonical = sheet.canonical()
    assert list(canonical.columns) == list(CANONICAL)
    assert canonical.loc[1, "fault_description"] == "Display dark"


def test_columns_follow_canonical_order_not_the_order_written():
    sheet = _sheet("Notes: n\nCountry: DE\nSN: SN123456\nRef: R-1\n")
    assert list(sheet.sent.columns) == ["claim_ref", "serial_number", "recipient_country",
                                        "notes"]


def test_a_body_without_any_recognised_label_gives_none():
    assert _sheet("Hi,\nsee the attached file.\nRegards: Anna\n") is None
    assert _sheet("") is None
    assert not has_form_labels("Hello: there")
    assert has_form_labels("SN: SN123456")


def test_unknown_labels_are_listed_once_and_prose_is_not_a_label():
    sheet = _sheet("Serial number: SN123456\nColour: red\ncolour: blue\nWarranty Type: X\n"
                   "Hello, our claims:\nMeeting at 10:30 tomorrow\nSee http://x.example/a\n"
                   "This is a long sentence that explains: something\n")
    assert sheet.unknown_columns == ["Colour", "Warranty Type"]
    assert list(sheet.sent.columns) == ["serial_number"]


def test_spacing_bullets_and_colons_inside_values():
    rows = _rows("- Serial number : SN123456\n* Notes: call at 10:30: ask for Ben\n"
                 "• Error code:IE 01\n")
    assert rows[1] == {"serial_number": "SN123456", "error_code": "IE 01",
                       "notes": "call at 10:30: ask for Ben"}


def test_an_indented_line_continues_the_value():
    body = form_body({"SN": "SN123456", "Address": "Hauptstraße 12\nHinterhaus",
                      "Fault": "Stops at noon\nand restarts at night"})
    assert body.count("\n  ") == 2
    rows = _rows(body + "Not a continuation\n")
    assert rows[1]["recipient_address"] == "Hauptstraße 12\nHinterhaus"
    assert rows[1]["fault_description"] == "Stops at noon\nand restarts at night"


def test_an_indented_label_line_is_a_new_field_not_a_continuation():
    rows = _rows("  Serial number: SN123456\n  Country: DE\n")
    assert rows[1] == {"serial_number": "SN123456", "recipient_country": "DE"}


def test_a_label_with_its_value_on_the_next_indented_lines():
    rows = _rows("Address:\n   Hauptstraße 12\n   Berlin\nSN: SN123456\n")
    assert rows[1]["recipient_address"] == "Hauptstraße 12\nBerlin"


def test_any_other_repeated_label_keeps_its_first_value():
    rows = _rows("SN: SN123456\nFault: first one\n  more of first\nFault: second one\n"
                 "  more of second\nNotes:\nNotes: filled later\n")
    assert rows[1]["fault_description"] == "first one\nmore of first"
    assert rows[1]["notes"] == "filled later"


@pytest.mark.parametrize("separator", ["---", "-----", "  ---  ", "----------"])
def test_dashes_separate_claims_and_blank_lines_do_not(separator):
    rows = _rows(f"SN: SN111111\n\nFault: one\n{separator}\nSN: SN222222\n")
    assert list(rows) == [1, 2]
    assert rows[1]["fault_description"] == "one"


def test_blocks_without_labels_are_not_claims_and_blank_claims_keep_numbering():
    sheet = _sheet("Hello\n---\nSN: SN111111\n---\nthanks\n---\nNotes:\n---\nSN: SN333333\n---\n")
    # blocks with a recognised label are claims 1, 2, 3; the blank one (2) is dropped
    assert list(sheet.sent.index) == [1, 3]
    assert sheet.sent.loc[3, "serial_number"] == "SN333333"


def test_everything_after_a_signature_is_ignored():
    for sig in ("-- ", "--"):
        sheet = _sheet(f"SN: SN123456\n{sig}\nAnna Müller\nPhone: 123\nMobile: 456\n")
        assert list(sheet.sent.columns) == ["serial_number"]
        assert sheet.unknown_columns == []


def test_quoted_lines_are_ignored_above_and_below_a_fresh_form():
    old = "Serial number: OLD111111\nCountry: FR\n"
    fresh = "Serial number: NEW222222\n"
    for top in (True, False):
        rows = _rows(reply_body(fresh, old, top_posting=top))
        assert rows == {1: {"serial_number": "NEW222222"}}


def test_a_reply_attribution_with_a_time_is_no_label_even_wrapped():
    body = ("SN: SN123456\nOn Mon, 3 Nov 2026 at 10:30, Anna Müller\n<anna@x.example> wrote:\n"
            "> Fault: old\n")
    sheet = _sheet(body)
    assert sheet.unknown_columns == [] and list(sheet.sent.columns) == ["serial_number"]


def test_a_reply_of_only_quotes_has_no_form():
    assert _sheet(reply_body("Thanks, noted.\n", "Serial number: OLD111111\n")) is None


def test_mail_header_labels_never_become_fields():
    for label in ("From", "Sent", "To", "Subject", "Date", "Cc"):
        assert canonical_name(label) is None
    assert {"from", "sent", "to", "subject", "date", "cc"} <= MAIL_HEADER_LABELS


def test_an_inline_forwarded_form_is_read_without_its_header_lines():
    body = forwarded_body(form_body({"SN": "SN123456", "Name": "Jo"}))
    sheet = _sheet(body)
    assert sheet.sent.to_dict("index") == {1: {"serial_number": "SN123456",
                                               "recipient_name": "Jo"}}
    assert sheet.unknown_columns == []


def test_fresh_labels_win_over_forwarded_or_original_history():
    fwd = forwarded_body(form_body({"SN": "OLD111111"}), intro="SN: NEW222222\n")
    assert _rows(fwd) == {1: {"serial_number": "NEW222222"}}
    outlook = outlook_reply_body("Serial number: NEW222222\n", "Serial number: OLD111111\n")
    assert _rows(outlook) == {1: {"serial_number": "NEW222222"}}
    # a reply without a fresh form: the original below is the only form there is
    only_old = outlook_reply_body("Please see below.\n", "Serial number: OLD111111\n")
    sheet = _sheet(only_old)
    assert _rows(only_old) == {1: {"serial_number": "OLD111111"}}
    assert sheet.unknown_columns == []


def test_a_bare_outlook_header_block_starts_the_history():
    body = ("SN: NEW222222\n\n________________________________\nFrom: Someone <s@x.example>\n"
            "Sent: Monday\nTo: us\nSubject: RE: claims\n\nSN: OLD111111\n")
    assert _rows(body) == {1: {"serial_number": "NEW222222"}}
    html_style = "Thanks\nFrom: Someone\nSent: Monday\nTo: us\nSubject: x\n\nSN: OLD111111\n"
    assert _rows(html_style) == {1: {"serial_number": "OLD111111"}}
    assert _sheet(html_style).unknown_columns == []


def test_windows_line_endings_and_non_breaking_spaces():
    rows = _rows("SN:\xa0SN123456\r\nCountry: DE\r\n---\r\nSN: SN654321\r\n")
    assert rows == {1: {"serial_number": "SN123456", "recipient_country": "DE"},
                    2: {"serial_number": "SN654321", "recipient_country": None}}
