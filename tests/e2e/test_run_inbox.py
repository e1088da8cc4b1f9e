"""The nightly job of SPEC §8 through `rma run-inbox`: per-account drop folders, archive,
quarantine, reports beside the inbox, files that must wait, and the crash-healing re-run."""

from __future__ import annotations

from pathlib import Path

import pytest

from rma.adapters.inbox import moves
from tests.e2e.conftest import today
from tests.factories import valid_claim, write_csv, write_xlsx

pytestmark = pytest.mark.prefect


def _by_name(batches: list[dict]) -> dict[str, dict]:
    return {Path(b["source"]).name: b for b in batches}


def _codes(batch: dict) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for item in batch["rejections"]:
        found.setdefault(item["row"], set()).add(item["code"])
    return found


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_run_inbox_posts_archives_quarantines_and_leaves_unfinished_uploads_waiting(
        cli, workdir):
    site = workdir / "site"
    inbox = site / "inbox"
    d001, silver, nobody = inbox / "D-001", inbox / "I-SILVER", inbox / "NOBODY"
    for folder in (d001, silver, nobody):
        folder.mkdir(parents=True)
    write_xlsx(d001 / "a.xlsx", [
        valid_claim(claim_ref="A-1"),                                  # row 2: accepted
        valid_claim(claim_ref="A-2", recipient_email="anna(at)x"),     # 3: INVALID_EMAIL
        valid_claim(claim_ref="A-3"),                                  # 4: accepted
        valid_claim(claim_ref="A-4", recipient_name=None),             # 5: MISSING_FIELD
    ])
    write_csv(silver / "b.csv", [
        valid_claim(claim_ref="B-1", rma_code="silv 0006"),            # 2: accepted
        valid_claim(claim_ref="B-2"),                                  # 3: CODE_REQUIRED
    ])
    write_csv(nobody / "c.csv", [valid_claim(), valid_claim()])       # UNKNOWN_ACCOUNT x2
    (d001 / "notes.txt").write_text("please call me about the inverter\n", encoding="utf-8")
    write_csv(d001 / ".hidden.csv", [valid_claim()])
    write_csv(d001 / "upload.csv.part", [valid_claim()])
    (d001 / "~$a.xlsx").write_bytes(b"Excel's lock file while a.xlsx is open")

    run = cli("run-inbox", "--inbox", str(inbox), "--json")
    assert run.code == 1, run.err                       # notes.txt could not be processed
    batches = run.json()["batches"]
    assert [Path(b["source"]).name for b in batches] == ["a.xlsx", "notes.txt", "b.csv",
                                                         "c.csv"]
    got = _by_name(batches)

    a = got["a.xlsx"]
    assert (a["status"], a["account_id"]) == ("posted", "D-001")
    assert (a["claims_accepted"], a["claims_rejected"]) == (2, 2)
    assert _codes(a) == {3: {"INVALID_EMAIL"}, 5: {"MISSING_FIELD"}}
    b = got["b.csv"]
    assert (b["status"], b["account_id"]) == ("posted", "I-SILVER")
    assert (b["claims_accepted"], b["claims_rejected"]) == (1, 1)
    assert _codes(b) == {3: {"CODE_REQUIRED"}}
    c = got["c.csv"]
    assert (c["status"], c["account_id"]) == ("posted", "NOBODY")
    assert (c["claims_accepted"], c["claims_rejected"]) == (0, 2)
    assert _codes(c) == {2: {"UNKNOWN_ACCOUNT"}, 3: {"UNKNOWN_ACCOUNT"}}
    notes = got["notes.txt"]
    assert notes["status"] == "failed" and notes["batch_id"] is None
    assert notes["error"]["code"] == "UNSUPPORTED_FORMAT"
    assert notes["claims_accepted"] == notes["claims_rejected"] == 0

    day = today().isoformat()
    assert _files(site / "archive") == {f"{day}/D-001/a.xlsx", f"{day}/I-SILVER/b.csv",
                                        f"{day}/NOBODY/c.csv"}
    assert _files(site / "quarantine") == {"D-001/notes.txt", "D-001/notes.txt.error.txt"}
    error_text = (site / "quarantine" / "D-001" / "notes.txt.error.txt").read_text("utf-8")
    assert error_text.startswith("UNSUPPORTED_FORMAT: ") and "notes.txt" in error_text
    assert _files(inbox) == {"D-001/.hidden.csv", "D-001/upload.csv.part", "D-001/~$a.xlsx"}
    for batch in (a, b, c):
        assert set(batch["reports"]) == {"xlsx", "csv"}
        for report in batch["reports"].values():
            assert Path(report).is_file()
            assert Path(report).resolve().parent == (site / "reports").resolve()

    listed = cli("claims", "list", "--json").json()["claims"]
    assert sorted(c["claim_ref"] for c in listed) == ["A-1", "A-3", "B-1"]

    again = cli("run-inbox", "--inbox", str(inbox), "--json")
    assert again.code == 0, again.err
    assert again.json() == {"batches": []}
    assert _files(inbox) == {"D-001/.hidden.csv", "D-001/upload.csv.part", "D-001/~$a.xlsx"}
    assert len(cli("claims", "list", "--json").json()["claims"]) == 3


def test_a_file_posted_but_not_moved_before_a_crash_is_archived_as_a_duplicate_by_the_next_run(
        cli, workdir):
    inbox = workdir / "inbox"                  # the configured inbox (RMA_INBOX)
    folder = inbox / "D-001"
    folder.mkdir()
    path = write_csv(folder / "late.csv", [valid_claim(), valid_claim()])

    # `rma ingest` commits the batch but never moves the file: just like a crash between
    # the commit and the move of a nightly run. The folder gives the account.
    first = cli("ingest", str(path), "--json")
    assert first.code == 0, first.err
    posted = first.json()["batches"][0]
    assert (posted["status"], posted["account_id"]) == ("posted", "D-001")
    assert posted["claims_accepted"] == 2
    assert path.is_file()
    claims_before = cli("claims", "list", "--json").json()["claims"]

    run = cli("run-inbox", "--inbox", str(inbox), "--json")
    assert run.code == 0, run.err
    [healed] = run.json()["batches"]
    assert healed["status"] == "duplicate"
    assert healed["batch_id"] == posted["batch_id"]
    assert healed["error"]["code"] == "DUPLICATE_BATCH"
    assert healed["claims_accepted"] == 0 and healed["claim_ids"] == []
    assert not path.exists()
    assert (workdir / "archive" / today().isoformat() / "D-001" / "late.csv").is_file()
    assert cli("claims", "list", "--json").json()["claims"] == claims_before


def test_a_file_another_run_archived_first_does_not_crash_the_run(cli, workdir, monkeypatch):
    """Two nightly runs at once (cron plus a manual re-run) both list the same files; the one
    that settles second finds them gone. Simulated deterministically: the other run posted
    both files (by hand here) and moves each one just before this run does."""
    inbox = workdir / "inbox"
    folder = inbox / "D-001"
    folder.mkdir()
    paths = [write_csv(folder / f"f{i}.csv", [valid_claim()]) for i in range(2)]
    assert cli("ingest", *map(str, paths), "--json").code == 0      # the other run's commits
    before = cli("claims", "list", "--json").json()["claims"]

    real_settle = moves.settle

    def the_other_run_moves_it_first(item, status, error, archive_root, quarantine_root,
                                     on_day):
        if item.path.exists():
            moves.archive(item, archive_root, on_day)
        return real_settle(item, status, error, archive_root, quarantine_root, on_day)

    monkeypatch.setattr(moves, "settle", the_other_run_moves_it_first)
    run = cli("run-inbox", "--inbox", str(inbox), "--json")
    assert run.code == 0, run.err
    assert [b["status"] for b in run.json()["batches"]] == ["duplicate", "duplicate"]
    day = today().isoformat()
    assert _files(workdir / "archive") == {f"{day}/D-001/f0.csv", f"{day}/D-001/f1.csv"}
    assert cli("claims", "list", "--json").json()["claims"] == before
