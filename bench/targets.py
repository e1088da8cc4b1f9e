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
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.figures import (
    RSS_LIMIT_BYTES,
    Row,
    judge_linear,
    judge_time,
    legend,
    measure,
    table,
)
from bench.harness import (
    PG_ADMIN_URL,
    Bench,
    batch_file,
    check_postgres,
    inbox_accounts,
    inbox_template,
)
from bench.run import OUT, ROOT, big_file_env, machine, prefect_server
from bench.tableschema import write_schema

ROWS: tuple[str, ...] = ("csv200k", "xlsx50k", "csv1m", "pg200k", "inbox300")


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


# ------------------------------------------------------------------------------- main


@dataclass
class Plan:
    """What every row is built from: the sizes, the repeats, the shared 200k csv and the Bench,
    set once the Prefect server is up (the rows' runs are lambdas called later)."""

    sizes: Sizes
    repeat: int
    repeat_big: int
    csv: Path | None
    bench: list[Bench]

    def b(self) -> Bench:
        return self.bench[0]


def _csv200k(plan: Plan) -> Row:
    csv, n = plan.csv, plan.sizes.csv
    assert csv is not None
    schema = write_schema(csv.parent)
    return Row(
        "csv200k", f"{n:,}-row distributor csv (~10% bad rows) into a fresh SQLite database",
        f"cd {csv.parent.relative_to(ROOT)} && frictionless validate --schema {schema.name} "
        f"{csv.name} --json --limit-errors 1000000000 (Table Schema: bench/tableschema.py)",
        f"rma ingest {csv.name} --account D-001 --json",
        "rma ingest at least 4x faster than the validation alone: ours/baseline <= 0.25",
        plan.repeat,
        lambda: plan.b().frictionless("csv200k-baseline", csv, schema, n),
        lambda: plan.b().ingest_sqlite("csv200k-ours", csv),
        judge_time(0.25, "4x faster"))


def _xlsx50k(plan: Plan) -> Row:
    n = plan.sizes.xlsx
    xlsx = batch_file("xlsx", n)
    return Row(
        "xlsx50k", f"{n:,}-row xlsx, same content, into a fresh SQLite database",
        f"python -c \"pandas.read_excel({xlsx.name}, engine='calamine')\" "
        "(a new process, imports included)",
        f"rma ingest {xlsx.name} --account D-001 --json",
        "rma ingest at most 2.5x the bare read: ours/baseline <= 2.5", plan.repeat,
        lambda: plan.b().read_excel("xlsx50k-baseline", xlsx, n),
        lambda: plan.b().ingest_sqlite("xlsx50k-ours", xlsx),
        judge_time(2.5, "2.5x"))


def _csv1m(plan: Plan) -> Row:
    csv, sizes = plan.csv, plan.sizes
    assert csv is not None
    big = batch_file("csv", sizes.big)
    return Row(
        "csv1m", f"{sizes.big:,}-row csv into a fresh SQLite database",
        f"rma ingest {csv.name} (the {sizes.csv:,}-row run), per row",
        f"rma ingest {big.name} --account D-001 --json",
        f"peak RSS <= 1.5 GB (10^9 B); time per row <= 1.25x the {sizes.csv:,}-row run's "
        f"(linear); {plan.repeat_big} run(s) each (--repeat-big)", plan.repeat_big,
        lambda: plan.b().ingest_sqlite("csv1m-baseline", csv),
        lambda: plan.b().ingest_sqlite("csv1m-ours", big),
        judge_linear(sizes.csv, sizes.big, 1.25))


def _pg200k(plan: Plan) -> Row:
    csv = plan.csv
    assert csv is not None
    return Row(
        "pg200k", f"{plan.sizes.csv:,}-row csv into a fresh PostgreSQL database (created and "
        f"dropped per run at {PG_ADMIN_URL.rsplit('/', 1)[0]})",
        f"the same into a fresh SQLite database (rma ingest {csv.name})",
        f"rma ingest {csv.name} --account D-001 --json, RMA_DATABASE_URL=postgresql",
        "ours/baseline <= 1.5", plan.repeat,
        lambda: plan.b().ingest_sqlite("pg200k-baseline", csv),
        lambda: plan.b().ingest_postgres("pg200k-ours", csv),
        judge_time(1.5, "1.5x"))


def _inbox300(plan: Plan) -> Row:
    sizes = plan.sizes
    template = inbox_template(sizes.inbox_files, sizes.inbox_rows)
    one = batch_file("csv", sizes.inbox_total)
    n_accounts = len(inbox_accounts(sizes.inbox_files))
    return Row(
        "inbox300", f"{sizes.inbox_files} files of {sizes.inbox_rows} rows "
        f"(inbox/<account>/*.csv, {n_accounts} distributor accounts), one run",
        f"rma ingest {one.name} --account D-001 --json (one file of the same "
        f"{sizes.inbox_total:,} rows)",
        "rma run-inbox --inbox inbox --json",
        "ours/baseline <= 10", plan.repeat,
        lambda: plan.b().ingest_sqlite("inbox300-baseline", one),
        lambda: plan.b().run_inbox("inbox300-ours", template, sizes.inbox_files),
        judge_time(10, "10x"))


#: each row's builder, in the order of ROWS
BUILDERS: dict[str, Callable[[Plan], Row]] = {
    "csv200k": _csv200k, "xlsx50k": _xlsx50k, "csv1m": _csv1m, "pg200k": _pg200k,
    "inbox300": _inbox300}


def build_rows(selected: list[str], sizes: Sizes, repeat: int, repeat_big: int,
               bench_ref: list[Bench]) -> list[Row]:
    """The selected rows, their inputs generated (or cached) now; ``bench_ref[0]`` is the
    Bench, set once the Prefect server is up."""
    need_csv = {"csv200k", "csv1m", "pg200k"} & set(selected)
    csv = batch_file("csv", sizes.csv) if need_csv else None
    plan = Plan(sizes, repeat, repeat_big, csv, bench_ref)
    return [BUILDERS[key](plan) for key in selected]


def _parser() -> argparse.ArgumentParser:
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
    return p


def _run_rows(rows: list[Row], bench_ref: list[Bench], timeout: float) -> None:
    """Each row measured against one Prefect server started here, its checks printed."""
    with (tempfile.TemporaryDirectory(prefix="bench-prefect-") as tmp,
          prefect_server(Path(tmp)) as api):
        bench_ref.append(Bench(api, Path(tmp), timeout))
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


def main(argv: list[str] | None = None) -> int:
    p = _parser()
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
    _run_rows(rows, bench_ref, args.timeout)
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
