"""One inbox run at a time (rma.adapters.runlock): a second run finds the lock and does nothing, the
lock goes with the process that held it (kill -9 included), and runs are recorded for
`rma status`."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from rma.adapters.db.engine import make_engine
from rma.adapters.db.runs import last_runs
from rma.adapters.db.tables import batches
from rma.adapters.runlock import RunBusy, inbox_lock
from tests.e2e.conftest import RMA
from tests.factories import generate_rows, valid_claim, write_csv


def _hold_lock(url: str, inbox: str, ready, release) -> None:
    with inbox_lock(make_engine(url), Path(inbox)):
        ready.set()
        release.wait(60)


def _holder(url: str, inbox: Path):
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    process = ctx.Process(target=_hold_lock, args=(url, str(inbox), ready, release))
    process.start()
    assert ready.wait(60), "the lock holder did not start"
    return process, release


def test_second_lock_on_the_same_inbox_is_refused_and_freed_by_kill_9(db_url, tmp_path):
    from rma.adapters.db.engine import upgrade

    upgrade(db_url)
    engine = make_engine(db_url)
    inbox, other = tmp_path / "inbox", tmp_path / "other"
    inbox.mkdir()
    other.mkdir()
    process, _release = _holder(db_url, inbox)
    try:
        with pytest.raises(RunBusy, match="another run is processing the inbox"), \
                inbox_lock(engine, inbox):
            pass
        with inbox_lock(engine, other):  # another inbox is another lock
            pass
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.join(30)
    deadline = time.monotonic() + 20  # PostgreSQL notices the dead session promptly
    while True:
        try:
            with inbox_lock(engine, inbox):
                break
        except RunBusy:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    engine.dispose()


def _waiting(inbox: Path) -> set[str]:
    return {str(p.relative_to(inbox)) for p in inbox.rglob("*") if p.is_file()}


@pytest.mark.prefect
def test_run_inbox_does_nothing_while_another_run_holds_the_inbox(cli, workdir, db_url):
    inbox = workdir / "inbox"
    (inbox / "D-001").mkdir()
    write_csv(inbox / "D-001" / "a.csv", [valid_claim(claim_ref="A-1")])
    write_csv(inbox / "D-001" / "bad.csv", [valid_claim(claim_ref="A-2", recipient_email="x")])
    (inbox / "D-001" / "notes.txt").write_text("not a claim file\n", encoding="utf-8")

    process, release = _holder(db_url, inbox)
    try:
        busy = cli("run-inbox", "--inbox", str(inbox), "--json")
    finally:
        release.set()
        process.join(30)
    assert busy.code == 1
    assert "another run is processing the inbox" in busy.err and "Traceback" not in busy.err
    assert _waiting(inbox) == {"D-001/a.csv", "D-001/bad.csv", "D-001/notes.txt"}
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(batches)).scalar() == 0
    assert last_runs(engine) == []

    done = cli("run-inbox", "--inbox", str(inbox), "--json")
    assert done.code == 1, done.err  # notes.txt is quarantined: a batch could not be processed
    assert _waiting(inbox) == set()
    [run] = last_runs(engine)
    engine.dispose()
    assert (run["status"], run["files"], run["batches_posted"], run["batches_failed"]) == \
        ("finished", 3, 2, 1)
    assert (run["claims_accepted"], run["claims_rejected"]) == (1, 1)
    assert [f["code"] for f in run["failures"]] == ["UNSUPPORTED_FORMAT"]

    status = cli("status", "--inbox", str(inbox), "--json")
    assert status.code == 0, status.err
    doc = status.json()
    assert doc["runs"][0]["run_id"] == run["run_id"]
    assert doc["waiting"] == {"files": [], "mail": []}
    [item] = doc["quarantined"]
    assert item["path"].endswith("notes.txt") and item["reason"].startswith("UNSUPPORTED_FORMAT")
    text = cli("status", "--inbox", str(inbox))
    assert "finished" in text.out and "Quarantined: 1 item(s)." in text.out


@pytest.mark.prefect
@pytest.mark.parametrize("db_url", ["sqlite", pytest.param("postgresql",
                                                           marks=pytest.mark.postgres)],
                         indirect=True)
def test_two_run_inbox_processes_at_once_process_every_file_exactly_once(
        cli, workdir, db_url, prefect_api):
    inbox = workdir / "inbox"
    files = []
    for n in range(6):
        folder = inbox / ("D-001" if n % 2 else "D-002")
        folder.mkdir(exist_ok=True)
        rows = generate_rows(1500, seed=n)
        for row in rows:
            row["serial_number"] = f"{row['serial_number']}X{n}"
            row["claim_ref"] = f"{row['claim_ref']}-{n}"
        files.append(write_csv(folder / f"f{n}.csv", rows) or folder / f"f{n}.csv")
    env = {**os.environ, "RMA_DATABASE_URL": db_url, "PREFECT_API_URL": prefect_api,
           "RMA_INBOX": str(inbox)}
    procs = [subprocess.Popen([RMA, "run-inbox", "--json"], cwd=workdir, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    codes = [p.returncode for p in procs]
    done = [json.loads(out)["batches"] for (out, _err), code in zip(outputs, codes, strict=True)
            if code == 0]
    busy = [err for (_out, err), code in zip(outputs, codes, strict=True) if code != 0]
    assert all("another run is processing the inbox" in err for err in busy), busy
    processed = [b for batches_ in done for b in batches_]
    assert sorted(Path(b["source"]).name for b in processed) == [f"f{n}.csv" for n in range(6)]
    assert {b["status"] for b in processed} == {"posted"}
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(batches)).scalar() == 6
    engine.dispose()
    assert _waiting(inbox) == set()
