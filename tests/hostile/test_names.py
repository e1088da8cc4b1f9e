"""Sheet names and attachment names are text, never paths. A workbook whose sheets are named
'../../evil', 'a/b\\c', with control characters or 5,000 characters long, and an e-mail whose
attachments are named '../../evil.csv' or 'C:\\...\\x.csv', are processed (or refused) and
nothing is written anywhere but the reports and the outbox, under names of our making."""

from __future__ import annotations

from pathlib import Path

from tests.factories import valid_claim, write_csv
from tests.hostile import builders as b
from tests.hostile.conftest import posted_rows
from tests.hostile.harness import MAX_PEAK_MB, MAX_SECONDS
from tests.mailfactory import XLSX_TYPE, mail

#: Sheet names as they stand in xl/workbook.xml (character references for control chars).
HOSTILE_SHEETS = {
    "../../evil": "../../evil",
    "a/b\\c": "a/b\\c",
    "x&#10;y&#13;z&#1;": "x\ny\rz\x01",
    "L" * 5000: "L" * 5000,
    "/etc/passwd": "/etc/passwd",
}


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _workbook(path: Path, first_has_claims: bool) -> Path:
    good, bad = valid_claim(), valid_claim(recipient_email="anna(at)example")
    claims = b.sheet_xml([b.row(1, list(good)), *(
        b.row(n, ["" if v is None else str(v) for v in claim.values()])
        for n, claim in ((2, good), (3, bad)))])
    no_header = b.sheet_xml([b.row(1, ["just", "notes"])])
    sheets = [(f"PLACEHOLDER{i}", claims if first_has_claims and i == 0 else no_header)
              for i in range(len(HOSTILE_SHEETS))]
    parts = b.workbook_parts(sheets)
    for i, markup in enumerate(HOSTILE_SHEETS):
        parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
            f'"PLACEHOLDER{i}"'.encode(), f'"{markup}"'.encode())
    path.parent.mkdir(parents=True)
    return b.write_zip(path, parts)


def test_a_sheet_named_like_a_path_is_posted_and_never_becomes_a_path(hostile, tmp_path):
    path = _workbook(tmp_path / "in" / "deep" / "names.xlsx", first_has_claims=True)
    before = _files(tmp_path)
    outcome = hostile.run(path)
    assert outcome.error is None and outcome.exit_code == 0, outcome.describe()
    assert outcome.seconds < MAX_SECONDS and outcome.peak_mb < MAX_PEAK_MB
    result = outcome.result
    assert (result["status"], result["claims_accepted"], result["claims_rejected"]) == \
        ("posted", 1, 1), outcome.describe()
    # the sheet's name is data in the result and the reports, not part of any path
    assert [(r["sheet"], r["row"], r["code"]) for r in result["rejections"]] == [
        ("../../evil", 3, "INVALID_EMAIL")]
    reports = {Path(p).name for p in result["reports"].values()}
    assert all(name.startswith("names.") and name.endswith((".rejections.xlsx",
                                                            ".rejections.csv"))
               for name in reports), reports
    new = _files(tmp_path) - before
    assert new <= {"reports", *(f"reports/{name}" for name in reports)} | {
        "claims.db-journal", "claims.db-wal", "claims.db-shm"}, new
    assert not (tmp_path / "evil").exists() and not (tmp_path / "in" / "evil").exists()
    assert posted_rows(hostile.url)["claims"] == 1


def test_sheet_names_in_a_refusal_are_shown_shortened_on_one_line(hostile, tmp_path):
    path = _workbook(tmp_path / "in" / "deep" / "names.xlsx", first_has_claims=False)
    before = _files(tmp_path)
    message = hostile.failed(path, "NO_HEADER")
    assert "sheets ../../evil, a/b\\c, x y z, " in message  # control characters: spaces
    assert "L" * 39 + "…, /etc/passwd;" in message  # a 5,000-character name: cut
    assert len(message) < 600
    assert _files(tmp_path) == before


def test_attachment_names_are_reduced_to_safe_base_names(hostile, tmp_path):
    claims = write_csv(tmp_path / "claims.csv", [valid_claim()]).read_bytes()
    more = write_csv(tmp_path / "more.csv", [valid_claim()]).read_bytes()
    bad = write_csv(tmp_path / "bad.csv", [valid_claim(recipient_email="x(at)y")]).read_bytes()
    names = ["../../evil.csv", "..\\..\\windows\\win.csv", "/etc/cron.d/job.csv",
             "x" * 300 + ".csv", "a\x01b.xlsx"]
    message = mail(body="Claims attached.", attachments=[
        (names[0], bad, "text/csv"), (names[1], claims, "text/csv"),
        (names[2], b.SECRET_FILE_TEXT.encode(), "text/csv"),
        (names[3], more, "text/csv"),
        (names[4], b"PK\x03\x04 not really", XLSX_TYPE)])
    eml = tmp_path / "mail" / "message.eml"
    eml.parent.mkdir()
    eml.write_bytes(message)
    before = _files(tmp_path)
    outcome = hostile.run(eml, kind="mail", account=None, outbox=tmp_path / "outbox")
    assert outcome.error is None and outcome.exit_code == 0, outcome.describe()
    assert outcome.seconds < MAX_SECONDS and outcome.peak_mb < MAX_PEAK_MB
    result = outcome.result
    assert result["status"] == "processed", outcome.describe()
    sources = [Path(batch["source"]).name for batch in result["batches"]]
    assert sources == ["evil.csv", "win.csv", "job.csv", "x" * 116 + ".csv", "ab.xlsx"]
    assert [batch["status"] for batch in result["batches"]] == [
        "posted", "posted", "failed", "posted", "failed"]
    new = _files(tmp_path) - before
    reports = {f"reports/{Path(p).name}" for batch in result["batches"]
               for p in batch["reports"].values()}
    assert reports, "the rejected claim of evil.csv has a report"
    assert {name for name in new if not name.startswith(("claims.db", "outbox"))} <= {
        "reports", *reports}, new
    assert all(".." not in name and "\\" not in name and "etc" not in name for name in new)
    assert any(name.startswith("outbox/") and name.endswith(".eml") for name in new)
    assert posted_rows(hostile.url)["claims"] == 2
