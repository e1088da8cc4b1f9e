"""Sheet names and attachment names are text, never paths. A workbook whose sheets are named
'../../evil', 'a/b\\c', with control characters or 5,000 characters long, and an e-mail whose
attachments are named '../../evil.csv' or 'C:\\...\\x.csv', are processed (or refused) and
nothing is written anywhere but the reports and the outbox, under names of our making."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from rma.adapters.names import MAX_NAME_BYTES, bounded_name, free_name
from tests.e2e.conftest import today
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


# -- long names (issue 12 item 8): every name we derive from a file's name fits on disk ------

#: 82 CJK characters (3 bytes each) and ".csv": 250 bytes, near ext4's 255 per name
CJK_250 = "請求書" * 27 + "請.csv"
#: exactly the 255 bytes a name may have
NAME_255 = "返品" * 41 + "abcde.csv"
NAME_MAX = 255


def _two_claims() -> list[dict]:
    return [valid_claim(), valid_claim(recipient_email="anna(at)example")]


def _all_names(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*")]


def _assert_fits(workdir: Path) -> None:
    for name in _all_names(workdir):
        assert len(name.encode("utf-8", "surrogateescape")) <= NAME_MAX, name


@pytest.mark.prefect
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("name", [CJK_250, NAME_255], ids=["cjk-250-bytes", "255-bytes"])
def test_a_file_with_a_name_of_up_to_255_bytes_is_processed_reported_and_archived(
        cli, workdir, name):
    assert len(name.encode()) in (250, 255)
    folder = workdir / "inbox" / "D-001"
    folder.mkdir(parents=True)
    first = write_csv(folder / name, _two_claims()).read_bytes()

    run = cli("run-inbox", "--json")
    assert run.code == 0, run.err
    [batch] = run.json()["batches"]
    assert (batch["status"], batch["claims_accepted"], batch["claims_rejected"]) == \
        ("posted", 1, 1), batch
    sha = hashlib.sha256(first).hexdigest()[:12]
    reports = [Path(p) for p in batch["reports"].values()]
    assert len(reports) == 2 and all(p.is_file() for p in reports), reports
    # the reports keep the file's hash and the start of its name, in bytes that fit
    assert all(f".{sha}.rejections." in p.name and p.name.startswith(name[:20])
               and len(p.name.encode()) <= MAX_NAME_BYTES for p in reports), reports
    archived = list((workdir / "archive" / today().isoformat() / "D-001").iterdir())
    assert [p.read_bytes() for p in archived] == [first]
    assert archived[0].suffix == ".csv" and archived[0].name.startswith(name[:20])
    returned = _all_names(workdir / "returns" / "D-001")
    assert len(returned) == 3 and all(f".{sha}." in n for n in returned), returned
    assert not any(folder.iterdir())

    # the same name uploaded again: a second archive name, numbered, that fits too
    second = write_csv(folder / name, _two_claims()).read_bytes()
    run = cli("run-inbox", "--json")
    assert run.code == 0, run.err
    assert [b["status"] for b in run.json()["batches"]] == ["posted"]
    archived = list((workdir / "archive" / today().isoformat() / "D-001").iterdir())
    assert sorted(p.read_bytes() for p in archived) == sorted([first, second])
    assert len(_all_names(workdir / "returns" / "D-001")) == 6
    _assert_fits(workdir)

    clean = cli("run-inbox", "--json")  # and the next night has nothing left to fail
    assert (clean.code, clean.json()["batches"]) == (0, []), clean.err


@pytest.mark.prefect
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_attachments_with_names_of_250_and_255_bytes_are_processed_and_reported(cli, workdir):
    mailbox = workdir / "inbox" / "mail"
    mailbox.mkdir(parents=True)
    files = [write_csv(workdir / f"{n}.csv", _two_claims()).read_bytes() for n in (1, 2)]
    (mailbox / "long.eml").write_bytes(mail(body="Claims attached.", attachments=[
        (CJK_250, files[0], "text/csv"), (NAME_255, files[1], "text/csv")]))

    run = cli("run-inbox", "--json")
    assert run.code == 0, run.err
    batches = run.json()["batches"]
    assert [(b["status"], b["claims_accepted"], b["claims_rejected"]) for b in batches] == \
        [("posted", 1, 1)] * 2, batches
    for batch, data in zip(batches, files, strict=True):
        sha = hashlib.sha256(data).hexdigest()[:12]
        assert all(Path(p).is_file() and f".{sha}.rejections." in Path(p).name
                   for p in batch["reports"].values()), batch["reports"]
    assert [p.name for p in (workdir / "archive" / today().isoformat() / "mail").iterdir()] \
        == ["long.eml"]
    assert list((workdir / "outbox").glob("*.eml")), "the reply waits in the outbox"
    _assert_fits(workdir)
    clean = cli("run-inbox", "--json")
    assert (clean.code, clean.json()["batches"]) == (0, []), clean.err


@pytest.mark.parametrize("stem", ["請" * 100, "é" * 150, "x" + "e\u0301" * 80, "\U0001f600" * 70,
                                  "x\udcff" * 150, "a " * 150])
def test_a_bounded_name_keeps_its_suffix_whole_and_never_cuts_a_character(stem, tmp_path):
    name = bounded_name(stem, ".0123456789ab.rejections.xlsx")
    data = name.encode("utf-8", "surrogateescape")
    assert len(data) <= MAX_NAME_BYTES and name.endswith(".0123456789ab.rejections.xlsx")
    assert data.decode("utf-8", "surrogateescape") == name and stem.startswith(name[:10])
    cut = name.removesuffix(".0123456789ab.rejections.xlsx")
    assert stem.startswith(cut) and stem[len(cut)] != "\u0301"  # an accent stays with its e
    taken = tmp_path / (stem[:40] + ".csv")
    taken.write_text("")
    assert free_name(taken).name == f"{taken.stem}.2.csv"
