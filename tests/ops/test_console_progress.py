"""What an operator sees while `rma ingest` / `rma run-inbox` work through many files: a rich
progress bar on a terminal, one plain line per finished file when the output goes to a file
or a pipe, nothing with --json; and the one structured log line per batch of the flows."""

from __future__ import annotations

import json
import mailbox
import os
import pty
import re
import select
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import flows.ingest as flows_module
from rma.domain.vocabulary.results import BatchResult
from rma.service.runlog import batch_line, logfmt
from tests.e2e.conftest import RMA
from tests.factories import valid_claim, write_csv
from tests.mailfactory import form_body, mail
from tests.ops.conftest import prefect_run_log

pytestmark = [pytest.mark.ops, pytest.mark.prefect]
#: the claims database is not what these tests are about
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

PLAIN = re.compile(r"^\[(\d+)/(\d+)\] (\S+): (posted, \d+ accepted, \d+ rejected|failed \(\w+\))"
                   r" \(\d+\.\d s\)$")
COUNT = re.compile(r"^\[(\d+)/(\d+)\] ")
JSON_KEYS = {"batch_id", "source", "account_id", "status", "claims_accepted", "claims_rejected",
             "claim_ids", "rejections", "warnings", "reports", "error", "corrects_batch_id",
             "corrected_by"}
LOGFMT = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


def files(folder: Path, n: int) -> list[str]:
    folder.mkdir(exist_ok=True)
    return [str(write_csv(folder / f"batch{i}.csv", [valid_claim(), valid_claim()]))
            for i in range(n)]


@SQLITE_ONLY
def test_without_a_terminal_each_finished_file_is_one_plain_line_on_stderr(cli, workdir):
    paths = files(workdir / "in", 3)
    (workdir / "in" / "notes.txt").write_text("not a claim file")
    run = cli("ingest", *paths, str(workdir / "in" / "notes.txt"), "--account", "D-001")
    assert run.code == 1  # notes.txt: UNSUPPORTED_FORMAT
    lines = run.err.strip().splitlines()
    matches = [PLAIN.match(line) for line in lines]
    assert all(matches), lines
    assert sorted(int(m.group(1)) for m in matches) == [1, 2, 3, 4]
    assert {m.group(2) for m in matches} == {"4"}
    assert {m.group(3) for m in matches} == {*paths, str(workdir / "in" / "notes.txt")}
    # stdout is what it always was: a line per batch and the summary
    assert run.out.count("2 accepted, 0 rejected") == 3
    assert "4 batch(es): 6 claims accepted, 0 rejected, 1 batch(es) failed." in run.out


@SQLITE_ONLY
def test_json_output_has_no_progress_and_rma_progress_off_silences_it(cli, workdir,
                                                                      monkeypatch):
    paths = files(workdir / "in", 2)
    run = cli("ingest", *paths, "--account", "D-001", "--json")
    assert run.code == 0 and run.err == ""
    assert len(json.loads(run.out)["batches"]) == 2
    monkeypatch.setenv("RMA_PROGRESS", "off")
    quiet = cli("run-inbox")
    assert quiet.code == 0 and quiet.err == ""
    monkeypatch.setenv("RMA_PROGRESS", "sometimes")
    assert cli("run-inbox").code == 2


@SQLITE_ONLY
def test_the_counter_counts_the_files_and_the_mail_of_a_run_as_one_total(cli, workdir):
    files(workdir / "inbox" / "D-001", 2)
    box = mailbox.Maildir(workdir / "inbox" / "mail", create=True)
    box.add(mailbox.MaildirMessage(mail(sender="claims@dist.example",
                                        body=form_body({"SN": "SNMAILED01"}))))
    run = cli("run-inbox")
    assert run.code == 0, run.err
    counts = [COUNT.match(line) for line in run.err.strip().splitlines()]
    assert all(counts), run.err
    assert [m.groups() for m in counts] == [("1", "3"), ("2", "3"), ("3", "3")], run.err


@SQLITE_ONLY
def test_the_closing_line_of_a_batch_names_the_reasons_its_claims_were_rejected_for(
        cli, workdir):
    sent = write_csv(workdir / "march.csv", [
        valid_claim(),
        valid_claim(serial_number="SNTWICE001"),          # DUPLICATE_SN_IN_BATCH, both
        valid_claim(serial_number="SNTWICE001"),
        valid_claim(recipient_email="anna(at)example"),   # INVALID_EMAIL
        valid_claim(fault_date="03/04/2025"),             # INVALID_DATE
        valid_claim(), valid_claim(),
    ])
    run = cli("ingest", str(sent), "--account", "D-001")
    assert run.code == 0, run.err
    assert (f"{sent} (D-001): 3 accepted, 4 rejected: 2 DUPLICATE_SN_IN_BATCH, "
            "1 INVALID_EMAIL, 1 INVALID_DATE [") in run.out, run.out
    assert "1 batch(es): 3 claims accepted, 4 rejected, 0 batch(es) failed." in run.out
    (workdir / "again.csv").write_bytes(sent.read_bytes() + b"\r\n")
    [batch] = cli("ingest", str(workdir / "again.csv"), "--account", "D-001", "--json"
                  ).json()["batches"]
    assert set(batch) == JSON_KEYS  # the JSON document is what it was: no reasons line in it
    assert "DUPLICATE_SN_IN_BATCH," not in json.dumps(batch)


def run_in_terminal(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 180
                    ) -> tuple[int, str, str]:
    """Run ``rma`` with its stdout on a pseudo-terminal; (status, terminal output, stderr)."""
    master, slave = pty.openpty()
    process = subprocess.Popen([RMA, *args], stdout=slave, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, cwd=cwd, env=env)
    os.close(slave)
    output = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the terminal's other end closed (rma exited)
                    break
                if not chunk:
                    break
                output += chunk
            elif process.poll() is not None:
                break
        status = process.wait(30)
        return status, output.decode("utf-8", "replace"), process.stderr.read().decode()
    finally:
        os.close(master)
        if process.poll() is None:  # pragma: no cover - only on a hang
            process.kill()
            process.wait()
        process.stderr.close()


@SQLITE_ONLY
def test_on_a_terminal_a_rich_progress_bar_is_drawn_and_the_results_follow(
        prefect_api, workdir):
    paths = files(workdir / "in", 3)
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "TERM": "xterm-256color",
           "COLUMNS": "100", "RMA_DATABASE_URL": os.environ["RMA_DATABASE_URL"],
           "DO_NOT_TRACK": "1"}
    env.pop("RMA_PROGRESS", None)
    status, screen, err = run_in_terminal(["ingest", *paths, "--account", "D-001"], env,
                                          workdir)
    assert status == 0, screen + err
    assert "━" in screen and "\x1b[" in screen         # a bar, drawn with terminal codes
    assert re.search(r"files.*\d/3", screen)
    assert re.search(r"3/3", screen)
    assert not re.search(r"^\[\d+/\d+\]", err, re.M)  # no plain lines beside the bar
    assert "3 batch(es): 6 claims accepted, 0 rejected, 0 batch(es) failed." in screen


# --------------------------------------------------------------------------- structured log


@pytest.fixture
def run_log() -> Iterator[list[str]]:
    """INFO lines of Prefect's flow and task run loggers during the test."""
    with prefect_run_log() as lines:
        yield lines


@SQLITE_ONLY
def test_the_flows_log_one_key_value_line_per_batch(prefect_api, workdir, run_log):
    paths = files(workdir / "in", 2)
    bad = workdir / "in" / "old.xls"
    bad.write_bytes(b"\xd0\xcf\x11\xe0 legacy")
    flows_module.ingest_many([*paths, str(bad)], ["D-001"] * 3,
                             os.environ["RMA_DATABASE_URL"], str(workdir / "reports"))
    batches = [dict((k, v.strip('"')) for k, v in LOGFMT.findall(line))
               for line in run_log if line.startswith("event=batch ")]
    assert sorted(b["file"] for b in batches) == sorted([*paths, str(bad)])
    posted = [b for b in batches if b["status"] == "posted"]
    assert len(posted) == 2
    for b in posted:
        assert (b["account"], b["accepted"], b["rejected"], b["error"]) == ("D-001", "2", "0",
                                                                             "-")
        assert b["batch_id"].startswith("B-") and float(b["seconds"]) > 0
    [failed] = [b for b in batches if b["status"] == "failed"]
    assert failed["error"] == "UNSUPPORTED_FORMAT" and failed["batch_id"] == "-"


def test_logfmt_quotes_what_would_break_a_line_apart():
    assert logfmt({"a": "plain", "b": "two words", "c": 'say "hi"', "d": None, "e": 1.5,
                   "f": "x=y", "g": "line\nbreak"}) == (
        'a=plain b="two words" c="say \\"hi\\"" d=- e=1.500 f="x=y" g="line\\nbreak"')
    line = batch_line(BatchResult(source="in box/a.csv", status="duplicate",
                                  account_id="D-001", batch_id="B-1",
                                  error={"code": "DUPLICATE_BATCH", "message": "…"}), 0.25)
    assert line == ('event=batch file="in box/a.csv" account=D-001 status=duplicate '
                    'accepted=0 rejected=0 warnings=0 batch_id=B-1 error=DUPLICATE_BATCH '
                    'seconds=0.250')
