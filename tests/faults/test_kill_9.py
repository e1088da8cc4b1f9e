"""kill -9 of a nightly run at any moment (SPEC §5, §8): the batch is in the database whole or
not at all, the file is never lost, and the next run completes the work exactly once."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
import sqlalchemy as sa

from rma.adapters.db.engine import make_engine
from rma.adapters.db.runs import last_runs
from rma.adapters.db.tables import batches, claim_lines, claims
from rma.entrypoints.cli import main
from tests.conftest import temp_pg_database
from tests.e2e.conftest import RMA, write_reference
from tests.factories import generate_rows, write_csv

pytestmark = [pytest.mark.prefect]

ROWS = 6000
#: kill points as fractions of an uninterrupted run: reading, deciding, posting, after commit
FRACTIONS = (0.35, 0.5, 0.65)

#: A run of `rma run-inbox` that kills itself (SIGKILL) right after the named step: the
#: deterministic version of "kill -9 at any moment", at the moments that matter.
KILLING_RUN = """
import os, signal, sys
import rma.adapters.inbox.moves
from rma.adapters.db.repository import ClaimsRepository
owner, name = sys.argv[1].rsplit(".", 1)
target = ClaimsRepository if owner == "repo" else rma.adapters.inbox.moves
step = getattr(target, name)
def killed_after(*args, **kwargs):
    if owner == "repo":
        step(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
setattr(target, name, killed_after)
from rma.entrypoints.cli import main
sys.exit(main(["run-inbox", "--json"]))
"""


def _site(root: Path, url: str, source: Path) -> tuple[Path, dict[str, str]]:
    """A fresh claims database with reference data and an inbox holding the one file."""
    root.mkdir()
    env = {**os.environ, "RMA_DATABASE_URL": url, "RMA_INBOX": str(root / "inbox")}
    old = dict(os.environ)
    os.environ.update(env)
    try:
        assert main(["db", "upgrade"]) == 0
        accounts, codes = write_reference(root)
        assert main(["accounts", "import", str(accounts)]) == 0
        assert main(["codes", "import", str(codes)]) == 0
    finally:
        os.environ.clear()
        os.environ.update(old)
    (root / "inbox" / "D-001").mkdir(parents=True)
    shutil.copy(source, root / "inbox" / "D-001" / source.name)
    return root, env


def _run(root: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([RMA, "run-inbox", "--json"], cwd=root, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def _state(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            count = [conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                     for t in (batches, claims, claim_lines)]
    finally:
        engine.dispose()
    return count[0], count[1], count[2]


def _file_is_somewhere(root: Path, name: str) -> list[str]:
    return [str(p.relative_to(root)) for p in root.rglob(name)
            if "inbox" in p.parts or "archive" in p.parts]


@pytest.mark.parametrize("db_url", ["sqlite", pytest.param("postgresql",
                                                           marks=pytest.mark.postgres)],
                         indirect=True)
@pytest.mark.parametrize("step", ["repo.insert_claim_lines", "repo.insert_issues",
                                  "inbox.archive"])
def test_kill_9_inside_the_posting_transaction_or_before_the_move_loses_nothing(
        db_url, step, tmp_path, prefect_api):
    """Killed after inserting lines / issues (before COMMIT): nothing of the batch is there.
    Killed after COMMIT, before the file moved: the batch is whole; the next run archives."""
    source = tmp_path / "night.csv"
    write_csv(source, generate_rows(1500, seed=3))
    root, env = _site(tmp_path / "site", db_url, source)
    env["PREFECT_API_URL"] = prefect_api
    killed = subprocess.run([sys.executable, "-c", KILLING_RUN, step], cwd=root, env=env,
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    counts = _state(db_url)
    committed = step == "inbox.archive"
    assert (counts[0] == 1) is committed and (counts == (0, 0, 0)) is not committed, counts
    assert (root / "inbox" / "D-001" / source.name).exists()

    out, err = _run(root, env).communicate(timeout=300)
    [batch] = json.loads(out)["batches"]
    assert batch["status"] == ("duplicate" if committed else "posted"), err
    final = _state(db_url)
    assert final[0] == 1 and final[1] > 0 and (not committed or final == counts)
    assert not list((root / "inbox" / "D-001").iterdir())
    assert [r["status"] for r in _last_runs(db_url)] == ["finished", "interrupted"]


def _last_runs(url: str) -> list[dict]:
    """The run log, read with an engine that is disposed after (its connections closed)."""
    engine = make_engine(url)
    try:
        return last_runs(engine)
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_kill_9_at_any_moment_leaves_no_partial_batch_and_the_next_run_completes_it(
        db_url, request, tmp_path, prefect_api):
    source = tmp_path / "night.csv"
    write_csv(source, generate_rows(ROWS, seed=7))

    def url_for(n: int) -> str:
        if n == 0:
            return db_url
        stack = ExitStack()
        request.addfinalizer(stack.close)
        return stack.enter_context(temp_pg_database("rma_kill"))

    # the reference: an uninterrupted run, timed, gives the whole batch
    root, env = _site(tmp_path / "ref", url_for(0), source)
    env["PREFECT_API_URL"] = prefect_api
    started = time.monotonic()
    out, err = _run(root, env).communicate(timeout=300)
    duration = time.monotonic() - started
    [batch] = json.loads(out)["batches"]
    assert batch["status"] == "posted", err
    whole = _state(url_for(0))
    assert whole[0] == 1 and whole[1] == batch["claims_accepted"] > 0

    outcomes = []
    for n, fraction in enumerate(FRACTIONS, start=1):
        url = url_for(n)
        root, env = _site(tmp_path / f"kill-{n}", url, source)
        env["PREFECT_API_URL"] = prefect_api
        process = _run(root, env)
        time.sleep(duration * fraction)
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=60)
        after_kill = _state(url)
        # whole or nothing: the batch with every claim and line, or no trace of it
        assert after_kill in {(0, 0, 0), whole}, (fraction, after_kill)
        assert _file_is_somewhere(root, source.name), "the file was lost"
        outcomes.append(after_kill == whole)

        out, err = _run(root, env).communicate(timeout=300)
        assert _state(url) == whole, err  # completed, and nothing posted twice
        [again] = json.loads(out)["batches"] if json.loads(out)["batches"] else [None]
        assert again is None or again["status"] in {"posted", "duplicate"}, again
        assert not list((root / "inbox" / "D-001").iterdir()), "the file was not archived"
        runs = _last_runs(url)
        assert runs[0]["status"] == "finished"
        assert all(r["status"] in {"finished", "interrupted"} for r in runs[1:])
    print(f"uninterrupted run {duration:.1f} s; killed at "
          f"{[round(duration * f, 1) for f in FRACTIONS]} s; batch already committed when "
          f"killed: {outcomes}")
