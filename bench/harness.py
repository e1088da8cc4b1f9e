"""What a measured run stands on (``bench.targets``, ``bench.portal``): a child process timed
from outside, a fresh database, the generated inputs (cached in bench/out/), and ``Bench``,
the commands each row measures."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import sqlalchemy as sa

from bench.figures import Measured
from bench.run import BIN, OUT, ROOT, big_file_env, fresh_database, setup_database
from rma.errors import RunFailed
from tests.factories import generate_rows, write_csv

PG_ADMIN_URL = (os.environ.get("RMA_BENCH_PG_ADMIN_URL")
                or os.environ.get("RMA_TEST_PG_ADMIN_URL")
                or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
#: Inherited variables that would point a run at someone else's database or folders.
RMA_ENV_CLEARED = ("RMA_DATABASE_URL", "RMA_INBOX", "RMA_ARCHIVE", "RMA_QUARANTINE",
                   "RMA_REPORTS", "RMA_OUTBOX", "RMA_SMTP_URL", "PREFECT_API_URL")
READ_EXCEL = ("import sys, pandas; "
              "frame = pandas.read_excel(sys.argv[1], engine='calamine'); print(len(frame))")


# ------------------------------------------------------------------------------- processes


def _kill_group(pid: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def timed(cmd: list[str], *, cwd: Path, env: dict[str, str], out: Path, err: Path,
          timeout: float) -> tuple[float, float, float, int]:
    """Wall seconds, peak RSS (MiB, this child's own ru_maxrss from wait4), CPU seconds (user +
    system) and exit code of ``cmd`` run as a child in its own process group (killed after
    ``timeout`` seconds)."""
    with out.open("wb") as stdout, err.open("wb") as stderr:
        start = time.perf_counter()
        child = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=stdout, stderr=stderr,
                                 start_new_session=True)
        timer = threading.Timer(timeout, _kill_group, (child.pid,))
        timer.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        except BaseException:
            _kill_group(child.pid)
            child.wait()
            raise
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return (seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime,
            child.returncode)


def tail(path: Path, chars: int = 1500) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return text[-chars:].strip()


def clean(workdir: Path) -> Path:
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    return workdir


# ------------------------------------------------------------------------------- databases


@contextmanager
def sqlite_database(workdir: Path, accounts: tuple[str, ...]) -> Iterator[str]:
    yield fresh_database(workdir, accounts)


_pg_counter = 0


@contextmanager
def postgres_database(accounts: tuple[str, ...]) -> Iterator[str]:
    """A new PostgreSQL database (migrated, accounts registered), dropped afterwards."""
    global _pg_counter
    _pg_counter += 1
    name = f"rma_bench_{os.getpid()}_{_pg_counter}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        setup_database(url, accounts, OUT)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def check_postgres() -> str | None:
    """None when the PostgreSQL server answers, else why not."""
    try:
        engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure: the row is skipped, with the reason
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {str(exc).splitlines()[0]}"
    return None


# ------------------------------------------------------------------------------- inputs


def _in_child(code: str) -> None:
    """Generate data in a child process, so this one stays small (a million rows of dicts)."""
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def batch_file(kind: str, rows: int) -> Path:
    """bench/out/claims-<rows>.<kind> (``bench.run.generate``: ~10% bad rows, cached)."""
    path = OUT / f"claims-{rows}.{kind}"
    if not path.exists():
        _in_child(f"from bench.run import generate; generate({kind!r}, {rows})")
    else:
        print(f"  {path.name}: cached ({path.stat().st_size / 1e6:.1f} MB)")
    return path


def inbox_accounts(files: int) -> tuple[str, ...]:
    return tuple(f"D-{i:03d}" for i in range(1, min(10, files) + 1))


def make_inbox(files: int, rows: int) -> Path:
    """bench/out/inbox-<files>x<rows>/<account>/claims-NNNN.csv: the rows of
    ``claims-<files*rows>.csv`` (same generator, same seed) cut into ``files`` files, spread
    round-robin over up to 10 distributor accounts. A template: each run gets a copy."""
    folder = OUT / f"inbox-{files}x{rows}"
    if (folder / ".complete").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    all_rows = generate_rows(files * rows, bad_ratio=0.1)
    accounts = inbox_accounts(files)
    for i in range(files):
        target = folder / accounts[i % len(accounts)] / f"claims-{i + 1:04d}.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        write_csv(target, all_rows[i * rows:(i + 1) * rows])
    (folder / ".complete").write_text("")
    return folder


def inbox_template(files: int, rows: int) -> Path:
    folder = OUT / f"inbox-{files}x{rows}"
    if (folder / ".complete").exists():
        print(f"  {folder.name}/: cached")
    else:
        _in_child(f"from bench.harness import make_inbox; make_inbox({files}, {rows})")
        print(f"  {folder.name}/: generated")
    return folder


# ------------------------------------------------------------------------------- the runs


class Bench:
    """Each measured command of a row (ours and the baselines), run in a clean work folder
    against the one Prefect server; a run that fails or posts the wrong thing raises RunFailed."""

    def __init__(self, api: str, prefect_home: Path, timeout: float) -> None:
        self.api = api
        self.prefect_home = prefect_home
        self.timeout = timeout
        self.work = OUT / "work" / "targets"

    def rma_env(self, db_url: str, workdir: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in RMA_ENV_CLEARED}
        env.update(big_file_env())
        env.update({"RMA_DATABASE_URL": db_url, "RMA_INBOX": str(workdir / "inbox"),
                    "RMA_SETTLE_SECONDS": "0",  # the inbox is copied just before the run
                    "RMA_REPORTS": str(workdir / "reports"), "PREFECT_API_URL": self.api,
                    "PREFECT_HOME": str(self.prefect_home / "client"),
                    "PREFECT_LOGGING_LEVEL": "WARNING",
                    "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
        return env

    def _rma(self, args: list[str], db_url: str, workdir: Path,
             expect_batches: int) -> Measured:
        out, err = workdir / "rma.json", workdir / "rma.err"
        seconds, peak, cpu, code = timed([str(BIN / "rma"), *args, "--json"], cwd=workdir,
                                         env=self.rma_env(db_url, workdir), out=out, err=err,
                                         timeout=self.timeout)
        if code != 0:
            raise RunFailed(f"rma {args[0]} exited {code}: {tail(err)}")
        batches = json.loads(out.read_text())["batches"]
        statuses = [b["status"] for b in batches]
        if len(batches) != expect_batches or set(statuses) != {"posted"}:
            raise RunFailed(f"rma {args[0]}: expected {expect_batches} posted batch(es), got "
                            f"{len(batches)}: {sorted(set(statuses))} "
                            f"{[b['error'] for b in batches if b['error']][:3]}")
        accepted = sum(b["claims_accepted"] for b in batches)
        rejected = sum(b["claims_rejected"] for b in batches)
        note = (f"{len(batches)} batches, " if len(batches) > 1 else "") + \
            f"{accepted:,} accepted / {rejected:,} rejected"
        return Measured(seconds, peak, cpu, note, {"batches": len(batches),
                                                   "claims_accepted": accepted,
                                                   "claims_rejected": rejected})

    def ingest_sqlite(self, name: str, path: Path,
                      accounts: tuple[str, ...] = ("D-001",)) -> Measured:
        workdir = clean(self.work / name)
        with sqlite_database(workdir, accounts) as url:
            return self._rma(["ingest", str(path), "--account", "D-001"], url, workdir, 1)

    def ingest_postgres(self, name: str, path: Path) -> Measured:
        workdir = clean(self.work / name)
        with postgres_database(("D-001",)) as url:
            return self._rma(["ingest", str(path), "--account", "D-001"], url, workdir, 1)

    def run_inbox(self, name: str, template: Path, files: int) -> Measured:
        workdir = clean(self.work / name)
        shutil.copytree(template, workdir / "inbox", ignore=shutil.ignore_patterns(".complete"))
        with sqlite_database(workdir, inbox_accounts(files)) as url:
            return self._rma(["run-inbox", "--inbox", str(workdir / "inbox")], url, workdir,
                             files)

    def frictionless(self, name: str, path: Path, schema: Path, rows: int) -> Measured:
        """``frictionless validate`` with cwd = the file's folder and relative names (it refuses
        absolute paths outside its base path), every error reported (--limit-errors)."""
        if not (BIN / "frictionless").exists():
            raise RunFailed(f"{BIN / 'frictionless'} is not installed: "
                            ".venv/bin/pip install -e '.[bench]'")
        workdir = clean(self.work / name)
        out, err = workdir / "frictionless.json", workdir / "frictionless.err"
        cmd = [str(BIN / "frictionless"), "validate", "--schema", schema.name, path.name,
               "--json", "--limit-errors", "1000000000"]
        seconds, peak, cpu, code = timed(cmd, cwd=path.parent, env=dict(os.environ), out=out,
                                         err=err, timeout=self.timeout)
        try:
            report = json.loads(out.read_text())
            task = report["tasks"][0]
        except (ValueError, KeyError, IndexError) as exc:
            raise RunFailed(f"frictionless exited {code} without a report: {tail(err)}") from exc
        if code not in (0, 1) or report["errors"]:  # 1: the data is invalid (expected)
            raise RunFailed(f"frictionless exited {code}: {report['errors'][:2]} {tail(err)}")
        stats = task["stats"]
        if stats["rows"] != rows:
            raise RunFailed(f"frictionless read {stats['rows']} rows, not {rows}")
        return Measured(seconds, peak, cpu, f"{stats['errors']:,} errors in {stats['rows']:,} "
                        "rows", {"errors": stats["errors"], "rows": stats["rows"],
                                 "valid": report["valid"]})

    def read_excel(self, name: str, path: Path, rows: int) -> Measured:
        workdir = clean(self.work / name)
        out, err = workdir / "read_excel.out", workdir / "read_excel.err"
        seconds, peak, cpu, code = timed([sys.executable, "-c", READ_EXCEL, str(path)],
                                         cwd=workdir, env=dict(os.environ), out=out, err=err,
                                         timeout=self.timeout)
        read = out.read_text().strip()
        if code != 0 or read != str(rows):
            raise RunFailed(f"read_excel exited {code}, printed {read!r}: {tail(err)}")
        return Measured(seconds, peak, cpu, f"{rows:,} rows read", {"rows": rows})
