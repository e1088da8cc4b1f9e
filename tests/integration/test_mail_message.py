"""Reading real RFC 5322 messages: headers, body choice, attachments, charsets, broken MIME."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from rma.adapters.mail.forms import form_sheet
from rma.adapters.mail.htmltext import html_to_text
from rma.adapters.mail.message import parse_message
from rma.adapters.names import safe_filename
from rma.errors import BatchError
from tests.mailfactory import (
    XLSX_TYPE,
    broken_no_boundary_mail,
    broken_unparsable_text_mail,
    broken_wrong_boundary_mail,
    form_body,
    forwarded_body,
    forwarded_mail,
    garbage_bytes,
    latin1_encoded_mail,
    mail,
    raw_mail,
    reply_body,
)

CLAIMS = form_body({"Claim reference": "A-1", "SN": "SN100001", "Serial number": "SN100002",
                    "Fault description": "Display stays dark"},
                   {"Ref": "A-2", "Serial No.": "SN100003", "Name": "Anna Müller"})
HTML = ("<html><head><style>p {color: red}</style><script>var SN = 'x: y';</script></head>"
        "<body><p>Hello,&nbsp;our claims:</p><table>"
        "<tr><td>Claim reference:</td><td>A-1</td></tr>"
        "<tr><td>SN:</td><td>SN100001</td></tr>"
        "<tr><td>Serial number:</td><td>SN100002</td></tr>"
        "<tr><td>Fault description:</td><td>Display stays dark</td></tr></table>"
        "<p>---</p><div>Ref: A-2<br>Serial No.: SN100003<br/>Name: Anna M&uuml;ller</div>"
        "</body></html>")


def _form(body: str):
    sheet = form_sheet(body, source=Path("f"), sha256="x")
    assert sheet is not None
    return sheet.sent.to_dict("index")


EXPECTED = {1: {"claim_ref": "A-1", "serial_number": "SN100001\nSN100002",
                "fault_description": "Display stays dark", "recipient_name": None},
            2: {"claim_ref": "A-2", "serial_number": "SN100003", "fault_description": None,
                "recipient_name": "Anna Müller"}}


def test_plain_body_headers_and_form():
    raw = mail(sender='"Anna, Sales" <Anna.Sales@Dist.Example>', subject="RMA claims",
               body=CLAIMS, message_id="<m1@dist.example>",
               extra_headers={"In-Reply-To": "<r2@maker.example>",
                              "References": "<r1@maker.example> <r2@maker.example>",
                              "Authentication-Results": "mx.maker.example; spf=pass"})
    msg = parse_message(raw)
    assert msg.message_id == "<m1@dist.example>"
    assert msg.sender == "anna.sales@dist.example"
    assert msg.subject == "RMA claims"
    assert msg.date is not None and msg.date.year == 2026
    assert msg.references == ["<r1@maker.example>", "<r2@maker.example>"]
    assert msg.authentication_results == "mx.maker.example; spf=pass"
    assert msg.sha256 == hashlib.sha256(raw).hexdigest()
    assert msg.attachments == [] and msg.oversized == []
    assert _form(msg.body) == EXPECTED


def test_html_only_body_gives_the_same_form():
    msg = parse_message(mail(html=HTML))
    assert "var SN" not in msg.body and "color" not in msg.body
    assert "Hello, our claims:" in msg.body
    assert _form(msg.body) == EXPECTED


def test_multipart_alternative_prefers_the_plain_part():
    msg = parse_message(mail(body="SN: PLAIN12345\n", html="<p>SN: HTML123456</p>"))
    assert msg.body.strip() == "SN: PLAIN12345"
    assert msg.attachments == []


def test_a_blank_plain_part_falls_back_to_html():
    msg = parse_message(mail(body="\n", html="<p>SN: HTML123456</p>"))
    assert msg.body.strip() == "SN: HTML123456"


def test_html_blockquotes_become_quoted_lines():
    text = html_to_text("<div>SN: NEW123456</div><blockquote><p>SN: OLD123456</p>"
                        "<blockquote>deeper</blockquote></blockquote><p>after</p>")
    assert text.splitlines() == ["SN: NEW123456", "> SN: OLD123456", "> > deeper", "after"]
    assert _form(text) == {1: {"serial_number": "NEW123456"}}


def test_attachments_keep_names_and_paths_become_safe_basenames():
    files = [("claims.xlsx", b"PK\x03\x04 xlsx bytes", XLSX_TYPE),
             ("../../etc/passwd.csv", b"serial_number\nSN1", "text/csv"),
             ("C:\\evil\\x.xlsx", b"PK", XLSX_TYPE),
             ("photo.pdf", b"%PDF-1.4", "application/pdf"),
             ("Prüfbericht März.pdf", b"%PDF", "application/pdf")]
    msg = parse_message(mail(body=CLAIMS, attachments=files))
    assert [a.filename for a in msg.attachments] == [
        "claims.xlsx", "passwd.csv", "x.xlsx", "photo.pdf", "Prüfbericht März.pdf"]
    assert [a.data for a in msg.attachments] == [f[1] for f in files]
    assert msg.attachments[0].content_type == XLSX_TYPE
    assert _form(msg.body) == EXPECTED  # the body part is no attachment


@pytest.mark.parametrize(("name", "safe"), [
    ("../../etc/passwd.csv", "passwd.csv"),
    ("C:\\evil\\x.xlsx", "x.xlsx"),
    ("..", "attachment-3"),
    ("", "attachment-3"),
    ("...hidden.csv", "hidden.csv"),
    ("a\x00b\x1fc.csv", "abc.csv"),
    ("claims (1).xlsx", "claims _1_.xlsx"),
    ("CON.csv", "_CON.csv"),
    ("x" * 300 + ".xlsx", "x" * 115 + ".xlsx"),
])
def test_safe_filename(name, safe):
    assert safe_filename(name, 3) == safe
    assert len(safe_filename(name, 3)) <= 120


def test_an_attachment_with_no_name_gets_a_numbered_one():
    raw = raw_mail([("From", "claims@dist.example"), ("Message-ID", "<n@x>"),
                    ("MIME-Version", "1.0"), ("Content-Type", 'multipart/mixed; boundary="b"')],
                   b"--b\r\nContent-Type: text/plain\r\n\r\nSN: SN123456\r\n"
                   b"--b\r\nContent-Type: application/octet-stream\r\n"
                   b"Content-Disposition: attachment\r\n\r\nxyz\r\n--b--\r\n")
    msg = parse_message(raw)
    assert [(a.filename, a.data) for a in msg.attachments] == [("attachment-1", b"xyz")]


def test_an_attachment_over_the_cap_is_named_in_oversized_and_not_kept():
    msg = parse_message(mail(body=CLAIMS, attachments=[
        ("big.xlsx", b"x" * 2000, XLSX_TYPE), ("small.csv", b"a", "text/csv")]),
        max_attachment_bytes=1000)
    assert msg.oversized == ["big.xlsx"]
    assert [a.filename for a in msg.attachments] == ["small.csv"]


def test_iso_8859_1_body_and_encoded_headers_are_decoded():
    msg = parse_message(latin1_encoded_mail(form_body({"SN": "SN123456", "Name": "Müller",
                                                       "City": "Köln"})))
    assert msg.sender == "jm@dist.example"
    assert msg.subject == "Reklamation Müller äöü"
    assert _form(msg.body) == {1: {"serial_number": "SN123456", "recipient_name": "Müller",
                                   "recipient_city": "Köln"}}


def test_windows_1252_body_and_a_wrongly_declared_charset():
    cp = parse_message(latin1_encoded_mail("Name: Müller – “quoted”\n", charset="windows-1252",
                                           subject="=?windows-1252?q?Gr=FC=DFe_=80?="))
    assert cp.body.strip() == "Name: Müller – “quoted”"
    assert cp.subject == "Grüße €"
    wrong = raw_mail([("From", "claims@dist.example"),
                      ("Content-Type", "text/plain; charset=utf-8")],
                     "Name: Müller\r\n".encode("latin-1"))
    assert parse_message(wrong).body.strip() == "Name: Müller"
    unknown = raw_mail([("From", "claims@dist.example"),
                        ("Content-Type", "text/plain; charset=x-martian")],
                       "Name: Müller\r\n".encode())
    assert parse_message(unknown).body.strip() == "Name: Müller"


def test_a_utf8_message_built_with_another_charset_via_the_factory():
    msg = parse_message(mail(sender="Jürgen Müller <jm@dist.example>", subject="Straße ✓",
                             body="Name: Jürgen Müller\n", charset="iso-8859-1"))
    assert msg.subject == "Straße ✓" and msg.sender == "jm@dist.example"
    assert msg.body.strip() == "Name: Jürgen Müller"


def test_a_forwarded_rfc822_message_supplies_the_form_when_the_outer_body_has_none():
    inner = mail(sender="customer@example.com", subject="My claim", body=CLAIMS,
                 attachments=[("inner.xlsx", b"PK", XLSX_TYPE)])
    msg = parse_message(forwarded_mail(inner))
    assert msg.attachments == []  # the forwarded message's own attachments are ignored
    assert "Forwarded message" in msg.body and "From: customer@example.com" in msg.body
    sheet = form_sheet(msg.body, source=Path("f"), sha256="x")
    assert sheet.sent.to_dict("index") == EXPECTED
    assert sheet.unknown_columns == []


def test_a_forwarded_message_is_listed_as_an_attachment_when_the_outer_body_has_a_form():
    inner = mail(sender="customer@example.com", body="SN: OLD111111\n", message_id="<in@x>")
    msg = parse_message(forwarded_mail(inner, body="SN: NEW222222\n", filename="orig.eml"))
    assert msg.body.strip() == "SN: NEW222222"
    [attached] = msg.attachments
    assert attached.filename == "orig.eml" and attached.content_type == "message/rfc822"
    assert parse_message(attached.data).message_id == "<in@x>"


def test_an_inline_forwarded_block():
    msg = parse_message(mail(body=forwarded_body(CLAIMS)))
    assert _form(msg.body) == EXPECTED


def test_a_reply_with_quoted_labels_only_reads_the_fresh_form():
    fresh = "Here are the corrected values:\n" + form_body({"SN": "NEW123456"})
    for top in (True, False):
        msg = parse_message(mail(body=reply_body(fresh, "Serial number: OLD123456\nCity: X")))
        assert _form(msg.body) == {1: {"serial_number": "NEW123456"}}
        msg = parse_message(mail(body=reply_body(fresh, "> Serial number: OLD2", top_posting=top)))
        assert _form(msg.body) == {1: {"serial_number": "NEW123456"}}


def test_a_signature_with_a_phone_label_is_ignored():
    msg = parse_message(mail(body=form_body({"SN": "SN123456"}) + "-- \nAnna\nPhone: 123\n"))
    sheet = form_sheet(msg.body, source=Path("f"), sha256="x")
    assert list(sheet.sent.columns) == ["serial_number"]


def test_a_message_without_message_id_gets_one_from_its_hash():
    raw = mail(body=CLAIMS, message_id="")
    msg = parse_message(raw)
    assert msg.message_id == f"<{hashlib.sha256(raw).hexdigest()}@rma.invalid>"


def test_sender_edge_cases():
    def sender(value: str | None) -> str:
        headers = [("Subject", "x")] + ([("From", value)] if value is not None else [])
        return parse_message(raw_mail(headers, b"hi")).sender

    assert sender(None) == ""
    assert sender('"claims@dist.example" <Evil@Attacker.Example>') == ""  # a forged name
    assert sender("=?utf-8?q?J=C3=BCrgen?= <jm@dist.example>") == "jm@dist.example"
    assert sender("a@x.example, b@y.example") == ""  # ambiguous: no account is guessed
    assert sender("undisclosed") == ""


def test_broken_mime_without_a_boundary_is_repaired():
    msg = parse_message(broken_no_boundary_mail(form_body({"SN": "SN123456"})))
    assert _form(msg.body) == {1: {"serial_number": "SN123456"}}


def test_broken_mime_with_a_wrong_boundary_is_repaired_with_its_attachment():
    msg = parse_message(broken_wrong_boundary_mail(form_body({"SN": "SN123456"})))
    assert _form(msg.body) == {1: {"serial_number": "SN123456"}}
    assert [a.filename for a in msg.attachments] == ["claims.csv"]


def test_a_multipart_with_no_recognisable_parts_is_read_as_text():
    raw = raw_mail([("From", "claims@dist.example"), ("Content-Type", "multipart/mixed")],
                   b"SN: SN123456\r\n")
    assert _form(parse_message(raw).body) == {1: {"serial_number": "SN123456"}}


def test_an_unclosed_multipart_keeps_what_was_read():
    raw = raw_mail([("From", "claims@dist.example"),
                    ("Content-Type", 'multipart/mixed; boundary="b"')],
                   b"--b\r\nContent-Type: text/plain\r\n\r\nSN: SN123456\r\n"
                   b"--b\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; "
                   b"filename=a.csv\r\n\r\nserial_number\r\nSN1")
    msg = parse_message(raw)
    assert _form(msg.body) == {1: {"serial_number": "SN123456"}}
    assert [a.filename for a in msg.attachments] == ["a.csv"]


def test_an_undecodable_payload_and_unknown_charset_degrade_without_a_traceback():
    msg = parse_message(broken_unparsable_text_mail())
    assert isinstance(msg.body, str) and msg.message_id == "<bad64@dist.example>"
    assert form_sheet(msg.body, source=Path("f"), sha256="x") is None


@pytest.mark.parametrize("raw", [b"", b"   \r\n", garbage_bytes()])
def test_what_is_no_email_at_all_is_an_unreadable_file(raw):
    with pytest.raises(BatchError) as caught:
        parse_message(raw, name="x.eml")
    assert caught.value.code == "UNREADABLE_FILE"
    assert caught.value.message.startswith("x.eml: the message could not be read (")


def test_malformed_headers_do_not_raise():
    raw = raw_mail([("From", "<<<@@@>>>"), ("Date", "not a date"), ("Message-ID", "no brackets"),
                    ("Subject", "=?utf-8?q?broken"), ("References", "garbage <ok@x> <"),
                    ("Content-Type", "text/plain; charset=\"")], b"SN: SN123456\r\n")
    msg = parse_message(raw)
    assert msg.date is None and msg.message_id == "<nobrackets>"
    assert msg.references == ["<ok@x>"]
    assert msg.body.strip() == "SN: SN123456"
