"""A distributor who drops a file gets the answer back: the reports and a summary in its return
folder (``returns/<account>/``, synced back by the SFTP side) and, with SMTP configured, a mail
to its registered addresses with the report attached, unless it opted out."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.factories import valid_claim, write_csv, write_xlsx

pytestmark = pytest.mark.prefect

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _drop(workdir: Path) -> Path:
    inbox = workdir / "site" / "inbox"
    (inbox / "D-001").mkdir(parents=True)
    (inbox / "D-002").mkdir(parents=True)
    write_xlsx(inbox / "D-001" / "november.xlsx", [
        valid_claim(claim_ref="N-1"),
        valid_claim(claim_ref="N-2", recipient_email="anna(at)x"),   # row 3: INVALID_EMAIL
    ])
    write_csv(inbox / "D-001" / "all-good.csv", [valid_claim(claim_ref="G-1")])
    (inbox / "D-001" / "notes.txt").write_text("call me\n", encoding="utf-8")
    write_csv(inbox / "D-002" / "other.csv", [valid_claim(claim_ref="O-1")])
    return inbox


def _returned(site: Path, account: str) -> dict[str, Path]:
    return {p.name: p for p in (site / "returns" / account).iterdir()}


def test_each_dropped_file_comes_back_to_its_account_folder_as_reports_and_a_summary(
        cli, workdir):
    inbox = _drop(workdir)
    run = cli("run-inbox", "--inbox", str(inbox), "--json")
    assert run.code == 1  # notes.txt is not a claim file
    site = workdir / "site"
    mine = _returned(site, "D-001")
    [report] = [name for name in mine if name.endswith(".rejections.xlsx")]
    stem = report.removesuffix(".rejections.xlsx")
    assert {f"{stem}.rejections.csv", f"{stem}.summary.txt"} <= set(mine)
    assert mine[report].read_bytes() == (site / "reports" / report).read_bytes()
    summary = mine[f"{stem}.summary.txt"].read_text(encoding="utf-8")
    assert "1 claim accepted, 1 claim rejected." in summary
    assert "Row 3 (claim N-2, SN " in summary and report in summary
    with mine[f"{stem}.rejections.csv"].open(encoding="utf-8") as handle:
        assert [r["code"] for r in csv.DictReader(handle)] == ["INVALID_EMAIL"]
    [good] = [name for name in mine if name.startswith("all-good.csv.")]
    assert "1 claim accepted, 0 claims rejected." in mine[good].read_text(encoding="utf-8")
    [refused] = [name for name in mine if name.startswith("notes.txt.")]
    assert "could not be processed" in mine[refused].read_text(encoding="utf-8")
    assert len(mine) == 5
    theirs = _returned(site, "D-002")
    assert len(theirs) == 1 and not any("november" in name for name in theirs)
    assert not (site / "outbox").exists()  # no SMTP configured: no mail is written


def test_with_smtp_the_accounts_registered_address_receives_the_summary_and_the_report(
        cli, workdir, smtp_server, monkeypatch):
    recorder, port = smtp_server()
    monkeypatch.setenv("RMA_SMTP_URL", f"smtp://127.0.0.1:{port}")
    inbox = _drop(workdir)
    assert cli("run-inbox", "--inbox", str(inbox)).code == 1
    [mail] = recorder.messages()  # D-002 registered no address: nothing to send it
    assert mail["To"] == "claims@dist.example"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert "3 files processed for Solar Distribution" in mail["Subject"]
    body = mail.get_body(("plain",)).get_content()
    assert "uploaded to your drop folder" in body and "Row 3 (claim N-2, SN " in body
    [attachment] = [part for part in mail.iter_attachments()]
    assert attachment.get_content_type() == XLSX
    assert attachment.get_filename() == "november-rejections.xlsx"


def test_an_account_that_opted_out_gets_no_mail_but_still_its_return_folder(
        cli, workdir, smtp_server, monkeypatch):
    recorder, port = smtp_server()
    monkeypatch.setenv("RMA_SMTP_URL", f"smtp://127.0.0.1:{port}")
    optout = workdir / "optout.csv"
    optout.write_text("account_id,name,kind,emails,report_mail\n"
                      "D-001,Solar Distribution,distributor,claims@dist.example,false\n",
                      encoding="utf-8")
    assert cli("accounts", "import", str(optout)).code == 0
    inbox = _drop(workdir)
    assert cli("run-inbox", "--inbox", str(inbox)).code == 1
    assert recorder.messages() == []
    assert len(_returned(workdir / "site", "D-001")) == 5
