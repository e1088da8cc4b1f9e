"""SIGTERM / SIGINT during `rma run-inbox` (issue 12, item 5; rma.service.stopping): the first
signal lets the batch in progress commit, takes no new file or e-mail, records the run
truthfully and only then frees the inbox lock; a second signal aborts at once and leaves no
half batch.

Real `rma run-inbox` subprocesses on a SQLite database, real signals (os.kill). The inbox holds
four files of ROWS rows, run one at a time (RMA_WORKERS=1), and one e-mail, taken after the
files: a signal sent when the first batch has committed finds the second in progress."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from rma.adapters.db.engine import make_engine
from rma.adapters.db.runs import last_runs
from rma.adapters.db.tables import batches, claims
from rma.adapters.runlock import RunBusy, inbox_lock
from tests.e2e.conftest import RMA, seed_database
from tests.factories import generate_rows, valid_claim, write_csv
from tests.mailfactory import mail

pytestmark = [pytest.mark.prefect]

ROWS = 25_000
FILES = 4
#: the longest a stopped run may take to exit: the batch in progress finishes first
EXIT_SECONDS = 60
#: how long after the first commit the signal comes: the second file is then being read
INTO_SECOND = 1.0


def _site(tmp_path: Path, prefect_api: str) -> tuple[Path, str, dict[str, str]]:
    url = f"sqlite:///{tmp_path / 'claims.db'}"
    seed_database(url, tmp_path)
    inbox = tmp_path / "inbox"
    (inbox / "D-001").mkdir(parents=True)
    for n in range(FILES):
        rows = generate_rows(ROWS, seed=n)
        for row in rows:  # distinct claims per file: every file posts its own
            row["serial_number"] = f"{row['serial_number']}X{n}"
            row["claim_ref"] = f"{row['claim_ref']}-{n}"
        write_csv(inbox / "D-001" / f"f{n}.csv", rows)
    write_csv(tmp_path / "mailed.csv", [valid_claim(claim_ref="MAIL-1")])
    (inbox / "mail").mkdir()
    (inbox / "mail" / "m1.eml").write_bytes(mail(
        body="Our claim is attached.\n", message_id="<sig-1@dist.example>",
        attachments=[("mailed.csv", (tmp_path / "mailed.csv").read_bytes(), "text/csv")]))
    env = {**os.environ, "RMA_DATABASE_URL": url, "RMA_INBOX": str(inbox),
           "PREFECT_API_URL": prefect_api, "RMA_WORKERS": "1", "RMA_TASK_GROUP_FILES": "1"}
    return inbox, url, env


def _start(tmp_path: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([RMA, "run-inbox", "--json"], cwd=tmp_path, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _counts(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (conn.execute(sa.select(sa.func.count()).select_from(batches)).scalar() or 0,
                conn.execute(sa.select(sa.func.count()).select_from(claims)).scalar() or 0)


def _whole_batches(engine: sa.Engine) -> tuple[int, int]:
    """Claims in the database, and the sum of the accepted counts of the committed batches:
    equal unless a batch is there in part."""
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(claims)).scalar()
        accepted = conn.execute(sa.select(sa.func.sum(batches.c.claims_accepted))).scalar()
    return total or 0, accepted or 0


def _after_first_batch(process: subprocess.Popen[str], engine: sa.Engine) -> int:
    """Wait until the run has committed its first batch and started the second (a file of
    ROWS rows takes several seconds; its task starts within INTO_SECOND seconds)."""
    deadline = time.monotonic() + 120
    while _counts(engine)[0] < 1:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no batch committed in 120 s"
        time.sleep(0.05)
    time.sleep(INTO_SECOND)
    return _counts(engine)[0]


def _finish(process: subprocess.Popen[str], timeout: float = EXIT_SECONDS
            ) -> tuple[int, str, str, float]:
    started = time.monotonic()
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err, time.monotonic() - started


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.rglob("*.csv")} if folder.exists() else set()


def test_one_sigterm_finishes_the_batch_in_progress_records_the_run_and_leaves_the_rest(
        tmp_path, prefect_api):
    inbox, url, env = _site(tmp_path, prefect_api)
    engine = make_engine(url)
    first = _start(tmp_path, env)
    at_signal = _after_first_batch(first, engine)
    first.send_signal(signal.SIGTERM)
    code, _out, err, seconds = _finish(first)
    assert code == 143, err
    assert "interrupted by SIGTERM" in err and "Traceback" not in err, err
    posted, claim_count = _counts(engine)
    assert posted == at_signal + 1, "the batch in progress did not commit"
    assert posted < FILES, "the run took new files after the signal"
    [run] = last_runs(engine)
    assert run["status"] == "interrupted"
    assert (run["files"], run["batches_posted"]) == (posted, posted)
    assert run["claims_accepted"] == claim_count
    archived, waiting = _files(tmp_path / "archive"), _files(inbox)
    assert len(archived) == posted and archived.isdisjoint(waiting)
    assert archived | waiting == {f"f{n}.csv" for n in range(FILES)}
    assert (inbox / "mail" / "m1.eml").exists(), "the e-mail was taken after the stop"

    second = _start(tmp_path, env)
    code, _out, err, _ = _finish(second, 300)
    assert code == 0, err
    with engine.connect() as conn:
        statuses = conn.execute(sa.select(batches.c.status)).scalars().all()
    assert len(statuses) == FILES + 1 and set(statuses) == {"posted"}  # nothing twice
    assert _files(inbox) == set() and not (inbox / "mail" / "m1.eml").exists()
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1  # one reply to the e-mail
    assert [r["status"] for r in last_runs(engine)] == ["finished", "interrupted"]
    engine.dispose()
    print(f"stopped {seconds:.1f} s after SIGTERM with {posted} of {FILES} files posted")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_lock_is_held_until_the_batch_in_progress_has_ended(tmp_path, prefect_api, signum):
    inbox, url, env = _site(tmp_path, prefect_api)
    engine = make_engine(url)
    first = _start(tmp_path, env)
    at_signal = _after_first_batch(first, engine)
    first.send_signal(signum)
    second = _start(tmp_path, env)  # an impatient operator, right after the signal
    checks = 0
    while first.poll() is None:
        try:
            with inbox_lock(engine, inbox):
                free = True
        except RunBusy:
            free = False
        # the lock is tried before the batches are counted: a free lock must come after the
        # batch in progress has committed, never while it works
        if free:
            assert _counts(engine)[0] > at_signal, "lock freed while the batch still worked"
            break
        checks += 1
        time.sleep(0.1)
    assert checks > 0
    code, _out, err, _ = _finish(first)
    assert code == 128 + signum, err
    assert _counts(engine)[0] == at_signal + 1  # the batch in progress at the signal committed
    code, out, err, _ = _finish(second, 300)
    if code == 1:  # it started while the first still worked: it did nothing
        assert "RUN_BUSY" in out and "another run is processing the inbox" in err, err
    else:  # it started after the first had ended: it took only what was left
        assert code == 0, err
    with engine.connect() as conn:
        statuses = conn.execute(sa.select(batches.c.status)).scalars().all()
    assert set(statuses) == {"posted"} and len(statuses) <= FILES + 1
    assert len(list((tmp_path / "outbox").glob("*.eml"))) <= 1
    engine.dispose()


def test_a_second_signal_aborts_at_once_and_leaves_no_half_batch(tmp_path, prefect_api):
    inbox, url, env = _site(tmp_path, prefect_api)
    engine = make_engine(url)
    first = _start(tmp_path, env)
    at_signal = _after_first_batch(first, engine)
    first.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    first.send_signal(signal.SIGTERM)
    code, _out, err, seconds = _finish(first, 20)
    print(f"aborted {seconds:.1f} s after the second SIGTERM; {_counts(engine)[0]} batch(es), "
          f"{at_signal} committed at the first")
    assert code == 143, err
    assert "SIGTERM again: aborted" in err and "Traceback" not in err, err
    assert seconds < 5, f"the abort took {seconds:.1f} s"
    # the batch in progress rolled back (or had committed whole just before the abort)
    assert _counts(engine)[0] in {at_signal, at_signal + 1}
    total, accepted = _whole_batches(engine)
    assert total == accepted, "half a batch in the database"
    [run] = last_runs(engine)
    assert run["status"] in {"interrupted", "running"}  # SQLite may be locked by the batch

    second = _start(tmp_path, env)
    code, _out, err, _ = _finish(second, 300)
    assert code == 0, err
    runs = last_runs(engine)
    assert [r["status"] for r in runs] == ["finished", "interrupted"]  # never running for ever
    total, accepted = _whole_batches(engine)
    assert total == accepted and _counts(engine)[0] == FILES + 1
    assert _files(inbox) == set()
    engine.dispose()
