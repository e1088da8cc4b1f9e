"""The reply to an e-mailed batch: headers, plain-words body, report attachments."""

from __future__ import annotations

import datetime as dt
import io
from email import message_from_bytes, policy

import openpyxl
import pytest

from rma.adapters.mail.reply import build_reply, reply_subject
from rma.domain.vocabulary.results import BatchResult

NOW = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)


def _xlsx(path, text="report"):
    wb = openpyxl.Workbook()
    wb.active.title = "Claims"
    wb.active["A1"] = text
    wb.save(path)
    return path


def _posted(tmp_path, source="inbox/m1.eml/claims.xlsx", with_rejections=True, **kw):
    rej = [
        {"sheet": "Claims", "row": 3, "claim_ref": "C-9", "serial_number": "SN123456",
         "column": "rma_code", "code": "CODE_INVALID",
         "message": "The RMA code is not valid for this account."},
        {"sheet": "Claims", "row": 3, "claim_ref": "C-9", "serial_number": "SN123456",
         "column": "recipient_phone", "code": "INVALID_PHONE",
         "message": "The phone number is not valid."},
        {"sheet": "Claims", "row": 7, "claim_ref": None, "serial_number": "SN999999",
         "column": "serial_number", "code": "SN_OPEN_CLAIM",
         "message": "The serial number already has an open claim."},
    ] if with_rejections else []
    reports = {}
    if with_rejections:
        reports = {"xlsx": str(_xlsx(tmp_path / "claims.abc.rejections.xlsx")),
                   "csv": str(tmp_path / "x.csv")}
    defaults = dict(source=source, status="posted", account_id="D-001", batch_id="B-1",
                    claims_accepted=2, claims_rejected=len({r["row"] for r in rej}),
                    claim_ids=["RMA-2026-000001", "RMA-2026-000002"], rejections=rej,
                    warnings=[{"row": 4, "code": "PREFILL_CONFLICT", "column": "site_city",
                               "message": "Customer Service registered a different value."}],
                    reports=reports)
    defaults.update(kw)
    return BatchResult(**defaults)


def _reply(results, **kw):
    args = dict(to="installer@example.com", original_subject="Claims March",
                original_message_id="<abc@mail.example.com>",
                original_references=["<root@mail.example.com>"], results=results,
                from_address="RMA Intake <rma@vendor.example>", now=NOW)
    args.update(kw)
    return build_reply(**args)


def _roundtrip(msg):
    return message_from_bytes(msg.as_bytes(), policy=policy.default)


# -- headers ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("original", "expected"), [
    ("Claims March", "Re: Claims March"),
    ("Re: Claims March", "Re: Claims March"),
    ("RE: Claims March", "Re: Claims March"),
    ("AW: Re: RE: Claims March", "Re: Claims March"),
    ("re:Claims", "Re: Claims"),
    ("", "Re: your claims"),
    ("Return of goods", "Re: Return of goods"),
])
def test_subject_keeps_one_re(original, expected):
    assert reply_subject(original) == expected


def test_threading_and_loop_headers(tmp_path):
    msg = _roundtrip(_reply([_posted(tmp_path)], original_references=[
        "<root@mail.example.com> <mid@mail.example.com>", "<abc@mail.example.com>"]))
    assert msg["To"] == "installer@example.com"
    assert msg["From"].addresses[0].addr_spec == "rma@vendor.example"
    assert msg["Subject"] == "Re: Claims March"
    assert msg["In-Reply-To"] == "<abc@mail.example.com>"
    assert msg["References"].split() == ["<root@mail.example.com>", "<mid@mail.example.com>",
                                         "<abc@mail.example.com>"]
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["Message-ID"].endswith("@vendor.example>")
    assert msg["Message-ID"] != "<abc@mail.example.com>"
    assert msg["Date"].datetime == NOW


def test_message_ids_get_fresh_each_time(tmp_path):
    one, two = _reply([_posted(tmp_path)]), _reply([_posted(tmp_path)])
    assert one["Message-ID"] != two["Message-ID"]


def test_no_header_injection_from_the_subject(tmp_path):
    evil = "Claims\r\nBcc: victim@example.org\r\nX-Evil: 1\nContent-Type: text/html"
    raw = _reply([_posted(tmp_path)], original_subject=evil).as_bytes()
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert msg["Subject"].startswith("Re: Claims")
    assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]
    assert msg.get_content_type() == "multipart/mixed"
    headers = raw.split(b"\n\n", 1)[0]
    assert b"\nBcc:" not in headers and b"\nX-Evil" not in headers


def test_malformed_message_ids_are_dropped(tmp_path):
    msg = _roundtrip(_reply([_posted(tmp_path)],
                            original_message_id="<x@y>\r\nBcc: a@b.example",
                            original_references=["not-an-id", "<ok@host>", "<ok@host>"]))
    assert msg["Bcc"] is None
    assert msg["In-Reply-To"] is None
    assert msg["References"] == "<ok@host>"


# -- body ------------------------------------------------------------------------------------

def test_posted_batch_body(tmp_path):
    msg = _roundtrip(_reply([_posted(tmp_path)]))
    body = msg.get_body(("plain",)).get_content()
    assert "== claims.xlsx ==" in body
    assert "2 claims accepted, 2 claims rejected." in body
    assert "RMA-2026-000001, RMA-2026-000002" in body
    assert "Row 3 (claim C-9, SN SN123456):" in body
    assert "  - RMA code: The RMA code is not valid for this account." in body
    assert "  - Recipient phone: The phone number is not valid." in body
    assert ("Row 7 (SN SN999999): Serial number: The serial number already has an open claim."
            in body)
    assert "Note: Row 4: Site city: Customer Service registered a different value." in body
    assert "claims-rejections.xlsx" in body


def test_single_issue_row_is_one_line(tmp_path):
    result = _posted(tmp_path, with_rejections=False, claims_rejected=1, warnings=[],
                     rejections=[{"sheet": "Claims", "row": 3, "claim_ref": "C-9",
                                  "serial_number": "ABC123", "column": "rma_code",
                                  "code": "CODE_INVALID",
                                  "message": "The RMA code is not valid for this account."}])
    body = _roundtrip(_reply([result])).get_body(("plain",)).get_content()
    assert ("Row 3 (claim C-9, SN ABC123): RMA code: The RMA code is not valid for this "
            "account.") in body


def test_claim_ids_are_capped(tmp_path):
    ids = [f"RMA-2026-{n:06d}" for n in range(1, 121)]
    result = _posted(tmp_path, with_rejections=False, claims_accepted=120, claims_rejected=0,
                     claim_ids=ids, warnings=[])
    body = _roundtrip(_reply([result])).get_body(("plain",)).get_content()
    assert "RMA-2026-000050 and 70 more" in body
    assert "RMA-2026-000051" not in body


def test_duplicate_failed_form_and_ignored(tmp_path):
    dup = BatchResult(source="inbox/m1.eml/old.csv", status="duplicate", account_id="D-001",
                      batch_id="B-20260101-0007",
                      error={"code": "DUPLICATE_BATCH", "message": "already"})
    failed = BatchResult.failed("inbox/m1.eml/broken.xlsx", "UNREADABLE_FILE",
                                "The file could not be read.", "D-001")
    form = _posted(tmp_path, source="inbox/m1.eml (form)", with_rejections=False,
                   claims_rejected=0, claim_ids=["RMA-2026-000009"], claims_accepted=1,
                   warnings=[{"row": 0, "code": "IGNORED_ATTACHMENT", "column": "",
                              "message": "The attachment 'a.pdf' is not a claim spreadsheet."}])
    msg = _roundtrip(_reply([form, dup, failed], ignored_attachments=["a.pdf", "b.docx"]))
    body = msg.get_body(("plain",)).get_content()
    assert "== Your e-mail form ==" in body
    assert "RMA-2026-000009" in body
    assert ("This file was already processed as batch B-20260101-0007; nothing was posted "
            "again.") in body
    assert "== broken.xlsx ==" in body
    assert "This file could not be processed: The file could not be read." in body
    assert "Nothing was posted." in body
    assert "not a claim spreadsheet, ignored: a.pdf, b.docx" in body.lower()
    assert "Note: Row 0" not in body and "'a.pdf' is not" not in body  # listed once
    assert "automatic reply" in body
    assert list(msg.iter_attachments()) == []


def test_empty_message_failure_names_the_email(tmp_path):
    failed = BatchResult.failed("inbox/m1.eml", "EMPTY_BATCH", "The e-mail holds no claims.",
                                "D-001")
    body = _roundtrip(_reply([failed])).get_body(("plain",)).get_content()
    assert "== Your e-mail ==" in body
    assert "could not be processed: The e-mail holds no claims." in body


# -- attachments -----------------------------------------------------------------------------

def test_attachments_only_for_batches_with_rejections(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with_rej = _posted(tmp_path / "a", source="inbox/m1.eml/claims.xlsx")
    clean = _posted(tmp_path, source="inbox/m1.eml/clean.xlsx", with_rejections=False,
                    claims_rejected=0, warnings=[])
    warn_only = _posted(tmp_path, source="inbox/m1.eml/warn.csv", with_rejections=False,
                        claims_rejected=0,
                        reports={"xlsx": str(_xlsx(tmp_path / "warn.xlsx"))})
    bad_name = _posted(tmp_path / "b", source='inbox/m1.eml/../we"ird name;.xlsx')
    msg = _roundtrip(_reply([with_rej, clean, warn_only, bad_name]))
    parts = list(msg.iter_attachments())
    assert [p.get_filename() for p in parts] == ["claims-rejections.xlsx",
                                                 "we_ird_name-rejections.xlsx"]
    for part in parts:
        assert part.get_content_type() == (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        wb = openpyxl.load_workbook(io.BytesIO(part.get_content()))
        assert wb.active["A1"].value == "report"


def test_same_stem_twice_gets_distinct_names(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = _posted(tmp_path / "a", source="m.eml/claims.xlsx")
    two = _posted(tmp_path / "b", source="m.eml/claims.csv")
    names = [p.get_filename() for p in _roundtrip(_reply([one, two])).iter_attachments()]
    assert names == ["claims-rejections.xlsx", "claims-2-rejections.xlsx"]
