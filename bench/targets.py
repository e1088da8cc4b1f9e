"""The performance targets (issue "Performance"): every row of the table below, each run a whole
process timed from outside, its baseline measured in the same invocation, alternating
(baseline, ours, baseline, ours, ...), medians compared as a ratio.

    .venv/bin/python -m bench.targets [--quick] [--only ROW,...] [--repeat N] [--repeat-big N]
                                      [--json PATH]
    .venv/bin/python -m bench.run --targets [the same options]

rows (ours: each run a fresh database; the baseline runs in the same invocation):

csv200k   rma ingest, 200k-row csv, SQLite    vs frictionless validate, same file: <= 0.25x
xlsx50k   rma ingest, 50k-row xlsx, SQLite    vs pandas.read_excel(calamine), new process:
          <= 2.5x
csv1m     rma ingest, 1M-row csv, SQLite      vs rma ingest of the 200k-row csv: time per row
          <= 1.25x, peak RSS <= 1.5 GB
pg200k    rma ingest, 200k-row csv, PostgreSQL vs the same into SQLite: <= 1.5x
inbox300  rma run-inbox, 300 files x 20 rows  vs rma ingest of one file of the same 6,000 rows:
          <= 10x

Every ``rma`` run (ours and baselines) talks to one ``prefect server`` started here
(PREFECT_API_URL set; its start-up is not counted). The batches (~10% bad rows) are generated
into bench/out/ and cached by size. Wall time is measured around the child process; peak RSS
is that child's own ``ru_maxrss`` from ``os.wait4`` (not the cumulative RUSAGE_CHILDREN).
See bench/README.md, section "What it measures".
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.run import (
    BIN,
    OUT,
    ROOT,
    big_file_env,
    fresh_database,
    machine,
    prefect_server,
    setup_database,
)
from rma.errors import RunFailed

ROWS: tuple[str, ...] = ("csv200k", "xlsx50k", "csv1m", "pg200k", "inbox300")
RSS_LIMIT_BYTES = 1.5e9  # "peak RSS at most 1.5 GB", read as 10^9 bytes (the stricter one)
MIB = 1024 * 1024
#: Inherited variables that would point a run at someone else's database or folders.
RMA_ENV_CLEARED = ("RMA_DATABASE_URL", "RMA_INBOX", "RMA_ARCHIVE", "RMA_QUARANTINE",
                   "RMA_REPORTS", "RMA_OUTBOX", "RMA_SMTP_URL", "PREFECT_API_URL")
PG_ADMIN_URL = (os.environ.get("RMA_BENCH_PG_ADMIN_URL")
                or os.environ.get("RMA_TEST_PG_ADMIN_URL")
                or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
READ_EXCEL = ("import sys, pandas; "
              "frame = pandas.read_excel(sys.argv[1], engine='calamine'); print(len(frame))")


@dataclass(frozen=True)
class Sizes:
    csv: int = 200_000  # csv200k, pg200k, and the baseline of csv1m
    xlsx: int = 50_000
    big: int = 1_000_000  # csv1m
    inbox_files: int = 300
    inbox_rows: int = 20  # rows per inbox file

    @property
    def inbox_total(self) -> int:
        return self.inbox_files * self.inbox_rows


QUICK = Sizes(csv=5_000, xlsx=2_000, big=20_000, inbox_files=20, inbox_rows=20)


@dataclass
class Measured:
    seconds: float  # wall time of the child process
    peak_mib: float  # its peak RSS
    cpu_seconds: float  # its user + system CPU time (less sensitive to a busy machine)
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Run(Measured):
    side: str = ""  # "baseline" | "ours"
    index: int = 0
    load1: float = 0.0  # 1-minute load average when the run started


@dataclass
class Check:
    check: str
    baseline: str
    ours: str
    ratio: float | None
    target: str
    passed: bool
    margin: str
    cpu_ratio: float | None = None  # the same ratio over CPU seconds, for reference only


@dataclass
class Row:
    key: str
    work: str
    baseline_title: str
    ours_title: str
    target_title: str
    repeats: int
    baseline: Callable[[], Measured]
    ours: Callable[[], Measured]
    judge: Callable[[Row, list[Run], list[Run]], list[Check]]
    runs: list[Run] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k not in ("baseline", "ours", "judge")}


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


def _tail(path: Path, chars: int = 1500) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return text[-chars:].strip()


def _clean(workdir: Path) -> Path:
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
    import sqlalchemy as sa

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
    import sqlalchemy as sa

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
    from tests.factories import generate_rows, write_csv

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
        _in_child(f"from bench.targets import make_inbox; make_inbox({files}, {rows})")
        print(f"  {folder.name}/: generated")
    return folder


# ------------------------------------------------------------------------------- the runs


class Bench:
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
            raise RunFailed(f"rma {args[0]} exited {code}: {_tail(err)}")
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
        workdir = _clean(self.work / name)
        with sqlite_database(workdir, accounts) as url:
            return self._rma(["ingest", str(path), "--account", "D-001"], url, workdir, 1)

    def ingest_postgres(self, name: str, path: Path) -> Measured:
        workdir = _clean(self.work / name)
        with postgres_database(("D-001",)) as url:
            return self._rma(["ingest", str(path), "--account", "D-001"], url, workdir, 1)

    def run_inbox(self, name: str, template: Path, files: int) -> Measured:
        workdir = _clean(self.work / name)
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
        workdir = _clean(self.work / name)
        out, err = workdir / "frictionless.json", workdir / "frictionless.err"
        cmd = [str(BIN / "frictionless"), "validate", "--schema", schema.name, path.name,
               "--json", "--limit-errors", "1000000000"]
        seconds, peak, cpu, code = timed(cmd, cwd=path.parent, env=dict(os.environ), out=out,
                                         err=err, timeout=self.timeout)
        try:
            report = json.loads(out.read_text())
            task = report["tasks"][0]
        except (ValueError, KeyError, IndexError) as exc:
            raise RunFailed(f"frictionless exited {code} without a report: {_tail(err)}") from exc
        if code not in (0, 1) or report["errors"]:  # 1: the data is invalid (expected)
            raise RunFailed(f"frictionless exited {code}: {report['errors'][:2]} {_tail(err)}")
        stats = task["stats"]
        if stats["rows"] != rows:
            raise RunFailed(f"frictionless read {stats['rows']} rows, not {rows}")
        return Measured(seconds, peak, cpu, f"{stats['errors']:,} errors in {stats['rows']:,} "
                        "rows", {"errors": stats["errors"], "rows": stats["rows"],
                                 "valid": report["valid"]})

    def read_excel(self, name: str, path: Path, rows: int) -> Measured:
        workdir = _clean(self.work / name)
        out, err = workdir / "read_excel.out", workdir / "read_excel.err"
        seconds, peak, cpu, code = timed([sys.executable, "-c", READ_EXCEL, str(path)],
                                         cwd=workdir, env=dict(os.environ), out=out, err=err,
                                         timeout=self.timeout)
        read = out.read_text().strip()
        if code != 0 or read != str(rows):
            raise RunFailed(f"read_excel exited {code}, printed {read!r}: {_tail(err)}")
        return Measured(seconds, peak, cpu, f"{rows:,} rows read", {"rows": rows})


# ------------------------------------------------------------------------------- judging


def _median(runs: list[Run], attr: str = "seconds") -> float:
    return statistics.median(getattr(r, attr) for r in runs)


def _margin(ratio: float, limit: float) -> str:
    if ratio <= limit:
        return f"{limit / ratio:.2f}x headroom"
    return f"{ratio / limit:.2f}x over"


def _n(runs: list[Run]) -> str:
    return f"n={len(runs)}"


def judge_time(limit: float, how: str) -> Callable[[Row, list[Run], list[Run]], list[Check]]:
    """ours median / baseline median <= limit."""

    def judge(row: Row, base: list[Run], ours: list[Run]) -> list[Check]:
        b, o = _median(base), _median(ours)
        ratio = o / b
        cpu = _median(ours, "cpu_seconds") / _median(base, "cpu_seconds")
        return [Check("time", f"{b:.2f} s ({_n(base)})", f"{o:.2f} s ({_n(ours)})", ratio,
                      f"<= {limit:g} ({how})", ratio <= limit, _margin(ratio, limit), cpu)]

    return judge


def judge_linear(small: int, big: int, limit: float
                 ) -> Callable[[Row, list[Run], list[Run]], list[Check]]:
    """Time per row of the big run <= limit x that of the small run; the big run's peak RSS
    (its highest run) <= RSS_LIMIT_BYTES."""

    def judge(row: Row, base: list[Run], ours: list[Run]) -> list[Check]:
        b, o = _median(base) / small * 1e6, _median(ours) / big * 1e6
        ratio = o / b
        cpu = (_median(ours, "cpu_seconds") / big) / (_median(base, "cpu_seconds") / small)
        peak = max(r.peak_mib for r in ours)
        limit_mib = RSS_LIMIT_BYTES / MIB
        return [
            Check("time/row", f"{b:.1f} µs/row ({_n(base)})", f"{o:.1f} µs/row ({_n(ours)})",
                  ratio, f"<= {limit:g} (linear)", ratio <= limit, _margin(ratio, limit), cpu),
            Check("peak RSS", f"{max(r.peak_mib for r in base):,.0f} MiB",
                  f"{peak:,.0f} MiB (max)", None, f"<= {limit_mib:,.0f} MiB (1.5 GB)",
                  peak <= limit_mib, _margin(peak, limit_mib)),
        ]

    return judge


def measure(row: Row) -> None:
    """baseline, ours, baseline, ours, ... ``row.repeats`` times each; then judge."""
    for i in range(1, row.repeats + 1):
        for side, fn in (("baseline", row.baseline), ("ours", row.ours)):
            load = os.getloadavg()[0]
            try:
                m = fn()
            except Exception as exc:  # a failed run ends its row, the others go on
                row.error = f"{side} run {i}: {exc}"
                print(f"  {row.key:<9} {side:<8} #{i}: ERROR {exc}", flush=True)
                return
            row.runs.append(Run(**asdict(m), side=side, index=i, load1=load))
            print(f"  {row.key:<9} {side:<8} #{i}: {m.seconds:8.2f} s  cpu {m.cpu_seconds:7.2f} s"
                  f"  peak {m.peak_mib:7,.0f} MiB  load {load:4.1f}  {m.note}", flush=True)
    base = [r for r in row.runs if r.side == "baseline"]
    ours = [r for r in row.runs if r.side == "ours"]
    row.checks = row.judge(row, base, ours)


# ------------------------------------------------------------------------------- output


def legend(rows: list[Row]) -> str:
    lines = []
    for row in rows:
        lines.append(f"{row.key:<9} {row.work}")
        lines.append(f"{'':<9}   ours:     {row.ours_title}")
        lines.append(f"{'':<9}   baseline: {row.baseline_title}")
        lines.append(f"{'':<9}   target:   {row.target_title}")
    return "\n".join(lines)


def table(rows: list[Row]) -> str:
    head = (f"{'row':<9} {'check':<9} {'baseline (median)':<22} {'ours (median)':<22} "
            f"{'ratio':>6}  {'target':<26} {'result':<6} {'margin':<15} {'cpu ratio':>9}")
    lines = [head, "-" * len(head)]
    for row in rows:
        if row.error:
            lines.append(f"{row.key:<9} {'':<9} ERROR: {row.error[:200]}")
            continue
        for c in row.checks:
            ratio = f"{c.ratio:6.2f}" if c.ratio is not None else f"{'-':>6}"
            cpu = f"{c.cpu_ratio:9.2f}" if c.cpu_ratio is not None else f"{'-':>9}"
            lines.append(f"{row.key:<9} {c.check:<9} {c.baseline:<22} {c.ours:<22} {ratio}  "
                         f"{c.target:<26} {'PASS' if c.passed else 'FAIL':<6} {c.margin:<15} "
                         f"{cpu}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------- main


def build_rows(selected: list[str], sizes: Sizes, repeat: int, repeat_big: int,
               bench_ref: list[Bench]) -> list[Row]:
    """The selected rows, their inputs generated (or cached) now; ``bench_ref[0]`` is the
    Bench, set once the Prefect server is up."""
    from bench.tableschema import write_schema

    def b() -> Bench:
        return bench_ref[0]

    rows: list[Row] = []
    need_csv = {"csv200k", "csv1m", "pg200k"} & set(selected)
    csv = batch_file("csv", sizes.csv) if need_csv else None
    for key in selected:
        if key == "csv200k":
            assert csv is not None
            schema = write_schema(csv.parent)
            rows.append(Row(
                key, f"{sizes.csv:,}-row distributor csv (~10% bad rows) into a fresh SQLite "
                f"database", f"cd {csv.parent.relative_to(ROOT)} && frictionless validate "
                f"--schema {schema.name} {csv.name} --json --limit-errors 1000000000 "
                "(Table Schema: bench/tableschema.py)",
                f"rma ingest {csv.name} --account D-001 --json",
                "rma ingest at least 4x faster than the validation alone: ours/baseline <= 0.25",
                repeat,
                lambda csv=csv, schema=schema: b().frictionless("csv200k-baseline", csv, schema,
                                                                sizes.csv),
                lambda csv=csv: b().ingest_sqlite("csv200k-ours", csv),
                judge_time(0.25, "4x faster")))
        elif key == "xlsx50k":
            xlsx = batch_file("xlsx", sizes.xlsx)
            rows.append(Row(
                key, f"{sizes.xlsx:,}-row xlsx, same content, into a fresh SQLite database",
                f"python -c \"pandas.read_excel({xlsx.name}, engine='calamine')\" "
                "(a new process, imports included)",
                f"rma ingest {xlsx.name} --account D-001 --json",
                "rma ingest at most 2.5x the bare read: ours/baseline <= 2.5", repeat,
                lambda xlsx=xlsx: b().read_excel("xlsx50k-baseline", xlsx, sizes.xlsx),
                lambda xlsx=xlsx: b().ingest_sqlite("xlsx50k-ours", xlsx),
                judge_time(2.5, "2.5x")))
        elif key == "csv1m":
            assert csv is not None
            big = batch_file("csv", sizes.big)
            rows.append(Row(
                key, f"{sizes.big:,}-row csv into a fresh SQLite database",
                f"rma ingest {csv.name} (the {sizes.csv:,}-row run), per row",
                f"rma ingest {big.name} --account D-001 --json",
                f"peak RSS <= 1.5 GB (10^9 B); time per row <= 1.25x the {sizes.csv:,}-row run's "
                f"(linear); {repeat_big} run(s) each (--repeat-big)", repeat_big,
                lambda csv=csv: b().ingest_sqlite("csv1m-baseline", csv),
                lambda big=big: b().ingest_sqlite("csv1m-ours", big),
                judge_linear(sizes.csv, sizes.big, 1.25)))
        elif key == "pg200k":
            assert csv is not None
            rows.append(Row(
                key, f"{sizes.csv:,}-row csv into a fresh PostgreSQL database (created and "
                f"dropped per run at {PG_ADMIN_URL.rsplit('/', 1)[0]})",
                f"the same into a fresh SQLite database (rma ingest {csv.name})",
                f"rma ingest {csv.name} --account D-001 --json, RMA_DATABASE_URL=postgresql",
                "ours/baseline <= 1.5", repeat,
                lambda csv=csv: b().ingest_sqlite("pg200k-baseline", csv),
                lambda csv=csv: b().ingest_postgres("pg200k-ours", csv),
                judge_time(1.5, "1.5x")))
        elif key == "inbox300":
            template = inbox_template(sizes.inbox_files, sizes.inbox_rows)
            one = batch_file("csv", sizes.inbox_total)
            n_accounts = len(inbox_accounts(sizes.inbox_files))
            rows.append(Row(
                key, f"{sizes.inbox_files} files of {sizes.inbox_rows} rows "
                f"(inbox/<account>/*.csv, {n_accounts} distributor accounts), one run",
                f"rma ingest {one.name} --account D-001 --json (one file of the same "
                f"{sizes.inbox_total:,} rows)",
                "rma run-inbox --inbox inbox --json",
                "ours/baseline <= 10", repeat,
                lambda one=one: b().ingest_sqlite("inbox300-baseline", one),
                lambda template=template: b().run_inbox("inbox300-ours", template,
                                                        sizes.inbox_files),
                judge_time(10, "10x")))
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.targets", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=",".join(ROWS),
                   help=f"comma-separated rows to run (default all: {','.join(ROWS)})")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke run with small sizes ({QUICK.csv:,} csv, {QUICK.xlsx:,} xlsx, "
                   f"{QUICK.big:,} big csv, {QUICK.inbox_files} inbox files of "
                   f"{QUICK.inbox_rows}), 1 run each unless --repeat says otherwise")
    p.add_argument("--repeat", type=int, default=None,
                   help="alternating runs of each side per row (default 3; --quick: 1)")
    p.add_argument("--repeat-big", type=int, default=1,
                   help="alternating runs of each side for csv1m (default 1: the 1M run "
                   "takes minutes)")
    p.add_argument("--rows-csv", type=int, default=None, help="csv rows (default 200000)")
    p.add_argument("--rows-xlsx", type=int, default=None, help="xlsx rows (default 50000)")
    p.add_argument("--rows-big", type=int, default=None, help="big csv rows (default 1000000)")
    p.add_argument("--inbox-files", type=int, default=None, help="inbox files (default 300)")
    p.add_argument("--inbox-rows", type=int, default=None, help="rows per file (default 20)")
    p.add_argument("--timeout", type=float, default=3600, help="seconds per run (default 3600)")
    p.add_argument("--strict", action="store_true", help="exit 3 when a target fails")
    p.add_argument("--json", type=Path, default=OUT / "targets.json", help="results file")
    args = p.parse_args(argv)

    selected = [k.strip() for k in args.only.split(",") if k.strip()]
    unknown = sorted(set(selected) - set(ROWS))
    if unknown:
        p.error(f"unknown row(s) {', '.join(unknown)}; choose from {', '.join(ROWS)}")
    base = QUICK if args.quick else Sizes()
    sizes = Sizes(csv=args.rows_csv or base.csv, xlsx=args.rows_xlsx or base.xlsx,
                  big=args.rows_big or base.big,
                  inbox_files=args.inbox_files or base.inbox_files,
                  inbox_rows=args.inbox_rows or base.inbox_rows)
    repeat = args.repeat or (1 if args.quick else 3)
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    info_before = machine()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in info_before.items()))
    env_defaults = big_file_env()
    print(f"rows: {', '.join(selected)}; sizes: {asdict(sizes)}; {repeat} alternating run(s) "
          f"per side, csv1m {args.repeat_big}; rma environment: "
          + ", ".join(f"{k}={v}" for k, v in env_defaults.items()))
    print("batches:")
    bench_ref: list[Bench] = []
    rows = build_rows(selected, sizes, repeat, args.repeat_big, bench_ref)
    for row in rows:
        if row.key == "pg200k":
            row.error = check_postgres()
    print()
    print(legend(rows))
    print()
    with (tempfile.TemporaryDirectory(prefix="bench-prefect-") as tmp,
          prefect_server(Path(tmp)) as api):
        bench_ref.append(Bench(api, Path(tmp), args.timeout))
        for row in rows:
            if row.error:
                print(f"  {row.key:<9} skipped: {row.error}")
                continue
            print(f"{row.key}: alternating baseline / ours, {row.repeats} each")
            measure(row)
            for c in row.checks:
                ratio = "-" if c.ratio is None else f"{c.ratio:.2f}"
                cpu = "" if c.cpu_ratio is None else f" (CPU-time ratio {c.cpu_ratio:.2f})"
                print(f"  {c.check}: ours {c.ours} vs baseline {c.baseline}, ratio {ratio}{cpu}, "
                      f"target {c.target}: {'PASS' if c.passed else 'FAIL'} ({c.margin})",
                      flush=True)
    elapsed = time.perf_counter() - started
    info_after = machine()
    print()
    print(f"Targets ({time.strftime('%Y-%m-%d %H:%M %Z')}, {elapsed / 60:.1f} min; ratio = "
          "ours / baseline of the median wall times of alternating runs (the verdict); cpu "
          "ratio = the same over user+system CPU seconds, for reference; load average at start "
          f"{'/'.join(f'{x:.1f}' for x in info_before['loadavg'])}, at end "
          f"{'/'.join(f'{x:.1f}' for x in info_after['loadavg'])}):")
    print(table(rows))
    if sizes != Sizes():
        print(f"NOTE: sizes {asdict(sizes)} are not the targets' sizes ({asdict(Sizes())}): "
              "the verdicts above only prove the bench works.")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "machine": info_before, "machine_after": info_after, "seconds": elapsed,
        "command": "python -m bench.targets " + " ".join(argv if argv is not None
                                                         else sys.argv[1:]),
        "sizes": asdict(sizes), "repeat": repeat, "repeat_big": args.repeat_big,
        "rma_env_limits": env_defaults, "rss_limit_bytes": RSS_LIMIT_BYTES,
        "rows": [r.to_json() for r in rows]}, indent=2, default=str))
    print(f"results written to {args.json}")
    if any(r.error for r in rows):
        return 1
    if args.strict and not all(c.passed for r in rows for c in r.checks):
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
