"""A drop-folder file that is still being written (issue 12): it is taken only once it has
not changed for RMA_SETTLE_SECONDS, and moved only while it is still exactly the file that
was listed and read, so the archive never holds rows that nobody processed, nor a link."""

from __future__ import annotations

import csv
import io
import os
import threading
import time
from pathlib import Path

import pytest

from rma.adapters.inbox import folders, moves
from rma.errors import FileChanged
from tests.e2e.conftest import today
from tests.factories import valid_claim, write_csv

#: the runs of these tests: in-process Prefect flow runs on SQLite (the file is what matters)
run_on_sqlite = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

SETTLE_SECONDS = 2


def _row_bytes(path: Path, claim: dict[str, object]) -> bytes:
    """``claim`` as one more record of the CSV at ``path`` (same columns, same line end)."""
    with path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(
        ["" if claim.get(h) is None else claim.get(h) for h in header])
    return out.getvalue().encode("utf-8")


def _serials(path: Path) -> set[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["serial_number"] for row in csv.DictReader(handle)}


def _claimed(cli) -> set[str]:
    return {sn for c in cli("claims", "list", "--json").json()["claims"]
            for sn in c["serial_numbers"]}


def _archived(workdir: Path, account: str = "D-001") -> list[Path]:
    folder = workdir / "archive" / today().isoformat() / account
    return sorted(folder.iterdir()) if folder.is_dir() else []


@pytest.mark.prefect
@run_on_sqlite
def test_a_file_still_being_written_waits_is_shown_as_not_settled_and_is_taken_whole_later(
        cli, workdir, monkeypatch):
    monkeypatch.setenv("RMA_SETTLE_SECONDS", str(SETTLE_SECONDS))
    folder = workdir / "inbox" / "D-001"
    folder.mkdir()
    path = write_csv(folder / "growing.csv", [valid_claim()])
    stop, written = threading.Event(), [1]

    def upload() -> None:  # an SFTP upload under its final name, one record at a time
        with path.open("ab") as handle:
            while not stop.is_set():
                handle.write(_row_bytes(path, valid_claim()))
                handle.flush()
                written[0] += 1
                time.sleep(0.05)

    writer = threading.Thread(target=upload, daemon=True)
    writer.start()
    try:
        time.sleep(0.2)
        run = cli("run-inbox", "--json")
        status = cli("status", "--json").json()
        text = cli("status").out
    finally:
        stop.set()
        writer.join(5)
    assert run.code == 0, run.err
    assert run.json() == {"batches": []}  # nothing of it read, nothing posted
    assert _claimed(cli) == set() and path.exists()
    [unsettled] = status["not_settled"]
    assert Path(unsettled["path"]).name == "growing.csv"
    assert unsettled["settle_seconds"] == SETTLE_SECONDS
    assert unsettled["quiet_seconds"] < SETTLE_SECONDS
    assert [Path(p).name for p in status["waiting"]["files"]] == ["growing.csv"]
    assert "growing.csv  (not settled: changed" in text

    time.sleep(SETTLE_SECONDS + 0.2)  # the upload is complete and has been still
    later = cli("run-inbox", "--json")
    assert later.code == 0, later.err
    [batch] = later.json()["batches"]
    assert batch["status"] == "posted"
    assert batch["claims_accepted"] + batch["claims_rejected"] == written[0]
    [archived] = _archived(workdir)
    assert _serials(archived) == _claimed(cli) and len(_claimed(cli)) == written[0]


@pytest.mark.prefect
@run_on_sqlite
def test_a_file_that_changed_after_it_was_read_is_not_archived_and_the_next_run_posts_the_rest(
        cli, workdir, monkeypatch):
    folder = workdir / "inbox" / "D-001"
    folder.mkdir()
    path = write_csv(folder / "claims.csv", [valid_claim(), valid_claim()])
    late = _row_bytes(path, valid_claim())
    real_settle = moves.settle

    def written_to_meanwhile(item, *args):  # the upload goes on after the file was read
        with item.path.open("ab") as handle:
            handle.write(late)
        return real_settle(item, *args)

    monkeypatch.setattr(moves, "settle", written_to_meanwhile)
    first = cli("run-inbox", "--json")
    assert first.code == 0, first.err
    [batch] = first.json()["batches"]
    assert (batch["status"], batch["claims_accepted"]) == ("posted", 2)  # what was read
    assert path.exists() and _archived(workdir) == []  # not archived with a row unprocessed

    monkeypatch.setattr(moves, "settle", real_settle)
    second = cli("run-inbox", "--json")
    assert second.code == 0, second.err
    [again] = second.json()["batches"]  # new content, new SHA-256: a new batch
    assert (again["claims_accepted"], again["claims_rejected"]) == (1, 2)
    assert {r["code"] for r in again["rejections"]} >= {"SN_OPEN_CLAIM"}
    [archived] = _archived(workdir)
    assert _serials(archived) == _claimed(cli) and len(_claimed(cli)) == 3


@pytest.mark.prefect
@run_on_sqlite
def test_a_file_swapped_for_a_link_after_it_was_read_is_never_archived_as_a_link(
        cli, workdir, monkeypatch):
    folder = workdir / "inbox" / "D-001"
    folder.mkdir()
    path = write_csv(folder / "claims.csv", [valid_claim()])
    elsewhere = write_csv(workdir / "elsewhere.csv", [valid_claim()])
    real_settle = moves.settle

    def swapped_meanwhile(item, *args):
        (folder / ".link").symlink_to(elsewhere)
        os.replace(folder / ".link", item.path)
        return real_settle(item, *args)

    monkeypatch.setattr(moves, "settle", swapped_meanwhile)
    run = cli("run-inbox", "--json")
    assert run.json()["batches"][0]["status"] == "posted"
    assert path.is_symlink() and _archived(workdir) == []
    monkeypatch.setattr(moves, "settle", real_settle)
    cli("run-inbox", "--json")  # the link is refused: quarantined unread
    assert os.readlink(workdir / "quarantine" / "D-001" / "claims.csv") == str(elsewhere)
    assert not any(p.is_symlink() for p in (workdir / "archive").rglob("*"))


def test_archiving_a_file_known_by_name_only_refuses_a_link_or_a_second_name(tmp_path):
    folder = tmp_path / "inbox" / "D-001"
    folder.mkdir(parents=True)
    target = write_csv(tmp_path / "elsewhere.csv", [valid_claim()])
    (folder / "link.csv").symlink_to(target)
    os.link(target, folder / "hard.csv")
    for name in ("link.csv", "hard.csv"):
        with pytest.raises(FileChanged, match=r"it is now a (symbolic link|file with 2 "
                                                   r"names); it was not moved"):
            moves.archive(folders.WaitingFile(folder / name, "D-001"), tmp_path / "archive",
                         today())
    assert not (tmp_path / "archive").exists()
