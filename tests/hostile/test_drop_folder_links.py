"""What a drop folder may hold besides uploaded files (SPEC §8, issue 12): a symbolic link to
another account's file or outside the inbox, a hard link to another account's file, a named
pipe, a folder named like a workbook, an account folder that is a link. None of them files a
claim for the folder's account; links go to quarantine unread (the link itself), the rest is
left in place; every one is a failed batch of the run and is shown by `rma status`; nothing
blocks the run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rma.adapters.inbox import folders
from tests.e2e.conftest import run_subprocess, today
from tests.factories import valid_claim, write_csv

pytestmark = [pytest.mark.prefect,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]

#: a run that takes longer than this over a handful of files is blocked
RUN_TIMEOUT = 120


def _by_name(run) -> dict[str, dict]:
    return {Path(b["source"]).name: b for b in run.json()["batches"]}


def _claims(cli) -> list[dict]:
    return cli("claims", "list", "--json").json()["claims"]


def _folders(workdir: Path, *accounts: str) -> list[Path]:
    folders = [workdir / "inbox" / a for a in accounts]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    return folders


def _refused(message: str, name: str, what: str) -> None:
    assert message.startswith(f"{name}: "), message
    assert what in message and "\n" not in message, message


def test_a_link_to_another_accounts_file_or_outside_the_inbox_is_quarantined_unread(
        cli, workdir):
    d001, d002 = _folders(workdir, "D-001", "D-002")
    victim = write_csv(d001 / "victim.csv", [valid_claim(), valid_claim()])
    content = victim.read_bytes()
    secret = write_csv(workdir / "elsewhere.csv", [valid_claim()])
    (d002 / "stolen.csv").symlink_to("../D-001/victim.csv")
    (d002 / "outside.csv").symlink_to(secret)

    run = cli("run-inbox", "--json")
    assert run.code == 1, run.err
    got = _by_name(run)
    assert set(got) == {"victim.csv", "stolen.csv", "outside.csv"}
    assert (got["victim.csv"]["status"], got["victim.csv"]["account_id"]) == ("posted", "D-001")
    assert got["victim.csv"]["claims_accepted"] == 2
    for name in ("stolen.csv", "outside.csv"):
        batch = got[name]
        assert (batch["status"], batch["error"]["code"]) == ("failed", "UNREADABLE_FILE")
        _refused(batch["error"]["message"], name, "not a regular file: it is a symbolic link")
        assert batch["error"]["message"].endswith("it was moved to quarantine unread")
    assert {c["account_id"] for c in _claims(cli)} == {"D-001"} and len(_claims(cli)) == 2

    # the quarantine holds the links themselves, with a note; the archive the content
    quarantined = workdir / "quarantine" / "D-002"
    assert os.readlink(quarantined / "stolen.csv") == "../D-001/victim.csv"
    assert os.readlink(quarantined / "outside.csv") == str(secret)
    note = (quarantined / "stolen.csv.error.txt").read_text(encoding="utf-8")
    assert note.startswith("UNREADABLE_FILE: stolen.csv: not a regular file: it is a symbolic "
                           "link (to ../D-001/victim.csv)")
    archived = workdir / "archive" / today().isoformat() / "D-001" / "victim.csv"
    assert not archived.is_symlink() and archived.read_bytes() == content
    assert secret.is_file() and not any(d002.iterdir())

    status = cli("status", "--json").json()
    shown = {Path(q["path"]).name: q["reason"] for q in status["quarantined"]}
    assert shown["stolen.csv"].startswith("UNREADABLE_FILE: stolen.csv: not a regular file")
    assert cli("run-inbox", "--json").json() == {"batches": []}


def test_a_hard_link_to_another_accounts_file_files_nothing_and_both_names_are_quarantined(
        cli, workdir):
    d001, d002 = _folders(workdir, "D-001", "D-002")
    victim = write_csv(d001 / "victim.csv", [valid_claim(), valid_claim()])
    os.link(victim, d002 / "stolen.csv")  # what hardlink@openssh.com makes

    run = cli("run-inbox", "--json")
    assert run.code == 1, run.err
    got = _by_name(run)
    for name in ("victim.csv", "stolen.csv"):
        assert (got[name]["status"], got[name]["error"]["code"]) == ("failed", "UNREADABLE_FILE")
        _refused(got[name]["error"]["message"], name, "the file has 2 names (a hard link")
    assert _claims(cli) == []  # which name is the original cannot be told: neither is taken
    quarantine = workdir / "quarantine"
    assert (quarantine / "D-002" / "stolen.csv").is_file()
    assert (quarantine / "D-001" / "victim.csv").is_file()
    assert not any(d001.iterdir()) and not any(d002.iterdir())

    # operations, having checked with the partner, ingest the owner's file by hand
    by_hand = cli("ingest", str(quarantine / "D-001" / "victim.csv"), "--account", "D-001",
                  "--json")
    assert by_hand.code == 0, by_hand.err
    assert by_hand.json()["batches"][0]["claims_accepted"] == 2


@pytest.mark.parametrize("path_taken", [
    pytest.param({}, id="ingest-batch"),
    pytest.param({"RMA_WORKERS": "1"}, id="ingest-small-files"),
    pytest.param({"RMA_CHUNK_ROWS": "1"}, id="ingest-large-file"),
])
def test_a_file_swapped_for_a_hard_link_after_the_listing_is_not_read_for_the_folders_account(
        cli, workdir, monkeypatch, path_taken):
    for name, value in path_taken.items():  # each way a file is ingested takes the state
        monkeypatch.setenv(name, value)
    d001, d002 = _folders(workdir, "D-001", "D-002")
    victim = write_csv(d001 / "victim.csv", [valid_claim(), valid_claim()])
    own = write_csv(d002 / "own.csv", [valid_claim()])
    real_scan = folders.scan

    def swapped_after_listing(*args, **kwargs):
        found = real_scan(*args, **kwargs)
        os.link(victim, d002 / ".swap")
        os.replace(d002 / ".swap", own)  # the name listed now is the victim's file
        return found

    monkeypatch.setattr(folders, "scan", swapped_after_listing)
    run = cli("run-inbox", "--json")
    assert run.code == 1, run.err
    got = _by_name(run)
    assert got["own.csv"]["error"]["code"] == "UNREADABLE_FILE"
    assert "replaced by another file after the drop folder was listed" in \
        got["own.csv"]["error"]["message"]
    assert "it has 2 names" in got["victim.csv"]["error"]["message"]
    assert _claims(cli) == []
    assert own.exists() and victim.exists()  # changed since listed: not moved either

    monkeypatch.setattr(folders, "scan", real_scan)
    again = cli("run-inbox", "--json")
    assert {b["status"] for b in again.json()["batches"]} == {"failed"}
    assert _claims(cli) == []


def test_pipes_and_folders_in_a_drop_folder_are_left_in_place_shown_and_never_block_the_run(
        cli, workdir, prefect_api):
    [d001] = _folders(workdir, "D-001")
    os.mkfifo(d001 / "pipe.csv")
    (d001 / "claims.xlsx").mkdir()
    write_csv(d001 / "good.csv", [valid_claim()])
    (workdir / "inbox" / "mail").mkdir()
    os.mkfifo(workdir / "inbox" / "mail" / "message.eml")

    done = run_subprocess(["run-inbox", "--json"], {"PREFECT_API_URL": prefect_api}, workdir,
                          timeout=RUN_TIMEOUT)
    assert done.returncode == 1, done.stderr
    got = {Path(b["source"]).name: b for b in json.loads(done.stdout)["batches"]}
    assert set(got) == {"good.csv", "pipe.csv", "claims.xlsx"}
    assert got["good.csv"]["status"] == "posted"
    _refused(got["pipe.csv"]["error"]["message"], "pipe.csv",
             "not a regular file: it is a named pipe (FIFO); it is never opened and is left "
             "in place: remove it")
    _refused(got["claims.xlsx"]["error"]["message"], "claims.xlsx",
             "it is a folder (files in sub-folders are not processed)")
    assert (d001 / "pipe.csv").exists() and (d001 / "claims.xlsx").is_dir()
    assert (workdir / "inbox" / "mail" / "message.eml").exists()

    status = cli("status", "--json").json()
    refused = {Path(r["path"]).name: r for r in status["refused"]}
    assert set(refused) == {"pipe.csv", "claims.xlsx", "message.eml"}
    assert {r["action"] for r in refused.values()} == {"left in place"}
    assert status["waiting"] == {"files": [], "mail": []}
    text = cli("status").out
    assert "Refused (never read): 3 item(s)." in text
    assert "pipe.csv: not a regular file: it is a named pipe (FIFO) [left in place]" in text


def test_rma_ingest_of_a_named_pipe_returns_at_once_with_a_failed_batch(
        cli, workdir, prefect_api):
    os.mkfifo(workdir / "pipe.csv")
    done = run_subprocess(["ingest", "pipe.csv", "--json"], {"PREFECT_API_URL": prefect_api},
                          workdir, timeout=RUN_TIMEOUT)
    assert done.returncode == 1, done.stderr
    [batch] = json.loads(done.stdout)["batches"]
    assert (batch["status"], batch["error"]["code"]) == ("failed", "UNREADABLE_FILE")
    assert batch["error"]["message"] == ("pipe.csv: not a regular file: it is a named pipe "
                                         "(FIFO), which is never read")


def test_a_link_given_to_rma_ingest_is_followed_but_takes_only_the_account_of_its_real_folder(
        cli, workdir):
    d001, d002 = _folders(workdir, "D-001", "D-002")
    victim = write_csv(d001 / "victim.csv", [valid_claim(account_id="D-001")])
    other = write_csv(d001 / "other.csv", [valid_claim(account_id="D-001")])
    (d002 / "stolen.csv").symlink_to("../D-001/victim.csv")
    os.link(other, d002 / "hard.csv")

    named = cli("ingest", str(d002 / "stolen.csv"), str(d002 / "hard.csv"), "--json")
    assert named.code == 0, named.err
    linked, hard = named.json()["batches"]
    assert Path(linked["source"]) == victim.resolve()  # operations named the link on purpose
    assert (linked["status"], linked["account_id"]) == ("posted", "D-001")
    assert (hard["status"], hard["account_id"]) == ("posted", None)  # rows say who: D-001
    assert {c["account_id"] for c in _claims(cli)} == {"D-001"}

    # a link found in a folder given by hand was not named on purpose: it is not followed;
    # a pipe there is not skipped in silence either
    os.mkfifo(d002 / "pipe.csv")
    folder = cli("ingest", str(d002), "--json")
    got = _by_name(folder)
    assert got["stolen.csv"]["error"]["message"] == ("stolen.csv: not a regular file: it is a "
                                                     "symbolic link, which is never read")
    assert got["pipe.csv"]["error"]["message"] == ("pipe.csv: not a regular file: it is a "
                                                   "named pipe (FIFO), which is never read")
    assert got["hard.csv"]["account_id"] is None


def test_an_account_folder_that_is_a_link_is_not_read_as_that_account(cli, workdir):
    [d001] = _folders(workdir, "D-001")
    write_csv(d001 / "mine.csv", [valid_claim(), valid_claim()])
    (workdir / "inbox" / "D-002").symlink_to("D-001", target_is_directory=True)

    run = cli("run-inbox", "--json")
    assert run.code == 1, run.err
    got = _by_name(run)
    assert set(got) == {"mine.csv", "D-002"}
    assert (got["mine.csv"]["status"], got["mine.csv"]["account_id"]) == ("posted", "D-001")
    _refused(got["D-002"]["error"]["message"], "D-002",
             "an account folder that is a symbolic link is not read")
    assert {c["account_id"] for c in _claims(cli)} == {"D-001"}
    assert (workdir / "inbox" / "D-002").is_symlink()


def test_a_second_link_of_the_same_name_never_replaces_the_first_in_quarantine(cli, workdir):
    [d002] = _folders(workdir, "D-002")
    for n in range(2):  # a relative link dangles once in quarantine: it is still there
        (d002 / "stolen.csv").symlink_to(f"../D-001/victim-{n}.csv")
        cli("run-inbox", "--json")
    quarantined = workdir / "quarantine" / "D-002"
    assert os.readlink(quarantined / "stolen.csv") == "../D-001/victim-0.csv"
    assert os.readlink(quarantined / "stolen.2.csv") == "../D-001/victim-1.csv"


def test_a_group_handed_to_another_machine_is_looked_at_again_there(cli, workdir):
    """The fan-out child (``ingest-files`` with ``inbox``) gets paths the parent listed; by
    then a name may be a link: the child refuses it as the parent would have."""
    from flows.ingest import ingest_many

    d001, d002 = _folders(workdir, "D-001", "D-002")
    victim = write_csv(d001 / "victim.csv", [valid_claim()])
    (d002 / "stolen.csv").symlink_to(victim)
    batches = ingest_many([str(d002 / "stolen.csv")], ["D-002"], inbox=str(workdir / "inbox"))
    [batch] = batches
    assert batch["error"]["code"] == "UNREADABLE_FILE"
    assert batch["error"]["message"].endswith("it was moved to quarantine unread")
    assert (workdir / "quarantine" / "D-002" / "stolen.csv").is_symlink()
    assert _claims(cli) == []
