"""One file through the pipeline stage by stage, in this process (``bench.run`` starts it).

    python -m bench.stages FILE --db-url URL --reports DIR --out RESULT.json [--profile]
    python -m bench.stages --sizes 10k,50k,200k,1M [--kind csv|xlsx] [--json PATH] [--profile]

The second form is a driver: it generates a batch of each size (``bench.run.generate``,
cached in bench/out/), runs the first form on each in a fresh process and database
(``bench.run.run_stages``) and prints the stages side by side by size (rows/s, peak MB), so
the growth of each stage's cost with the batch size is visible.

The stage code is a copy of ``rma.service.batch.ingest_file``, in the same order, calling the same
functions (its private helpers included). The real service writes the reports inside the
posting transaction between ``allocate_claim_ids`` and ``post_decision``; so does this copy,
but the report is timed as a stage of its own and "post" is the sum of the two parts around it.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import pstats
import resource
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.run import OUT, big_file_env, generate, machine, parse_count, run_stages, table
from rma.adapters.db.engine import make_engine, posting_transaction
from rma.adapters.db.repository import ClaimsRepository
from rma.adapters.readers import read_batch
from rma.adapters.reports import write_reports
from rma.config import load_settings
from rma.domain.rules.decide import decide
from rma.service.batch import _reference, check_format, file_sha256, new_batch_id
from rma.service.origin import Origin
from rma.service.outcome import batch_result, report_input
from rma.service.posting import post_decision

ACCOUNT = "D-001"
ROOT = str(Path(__file__).resolve().parent.parent) + "/"
MB = 1024 * 1024


def _status_kb(key: str) -> int:
    """A ``kB`` line of /proc/self/status (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def reset_peak() -> bool:
    """Reset the RSS high-water mark (VmHWM) to the current RSS; False if not permitted."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass
class Stage:
    name: str
    rows: int = 0
    seconds: float = 0.0
    peak_mb: float = 0.0  # process RSS high-water mark during the stage
    start_mb: float = 0.0  # process RSS when the stage (first) started
    hot: list[str] = field(default_factory=list)  # with --profile: top by own time
    hot_project: list[str] = field(default_factory=list)  # top rma/schemas by cumulative time


class Meter:
    """Times stages and their peak RSS; a stage entered twice accumulates (time, max peak)."""

    def __init__(self, profile: bool) -> None:
        self.profile = profile
        self.rows = 0
        self.stages: dict[str, Stage] = {}
        self.peak_method = ("VmHWM after clear_refs" if reset_peak() else
                            "getrusage ru_maxrss (clear_refs not permitted: peak since process "
                            "start, not per stage)")
        self._profilers: dict[str, cProfile.Profile] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        first = name not in self.stages
        st = self.stages.setdefault(name, Stage(name))
        per_stage = reset_peak()
        if first:
            st.start_mb = _status_kb("VmRSS") / 1024
        profiler = self._profilers.setdefault(name, cProfile.Profile()) if self.profile else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        try:
            yield
        finally:
            if profiler:
                profiler.disable()
            st.seconds += time.perf_counter() - start
            peak_kb = (_status_kb("VmHWM") if per_stage
                       else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
            st.peak_mb = max(st.peak_mb, peak_kb / 1024)
            st.rows = self.rows

    def hot_functions(self, dump_dir: Path, top: int = 5) -> None:
        """Fill each stage's ``hot`` (top functions by own time) and ``hot_project`` (top
        project functions, rma/ and schemas/, by cumulative time); dump <stage>.prof files."""
        for name, profiler in self._profilers.items():
            profiler.dump_stats(dump_dir / f"{name}.prof")
            stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
            own = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)
            ours = sorted(((f, v) for f, v in stats.items() if _is_project(f[0])),
                          key=lambda kv: kv[1][3], reverse=True)
            self.stages[name].hot = [_describe(f, v) for f, v in own[:top]]
            self.stages[name].hot_project = [_describe(f, v) for f, v in ours[:top]]


def _is_project(filename: str) -> bool:
    return filename.startswith((ROOT + "rma/", ROOT + "schemas/"))


def _describe(func: tuple[str, int, str], stat: tuple) -> str:
    _cc, calls, own, cum, _callers = stat
    return f"{own:7.2f}s self {cum:7.2f}s cum {calls:>9} calls  {_where(func)}"


def _where(func: tuple[str, int, str]) -> str:
    filename, line, name = func
    for marker in ("site-packages/", ROOT):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
    return f"{filename}:{line}({name})" if line else name


def _require_new(first_batch: str | None) -> None:
    if first_batch is not None:
        raise SystemExit(f"this file is already posted as {first_batch}: use a fresh database")


def run(path: Path, db_url: str, reports_dir: Path, profile: bool) -> dict:
    """``rma.service.batch.ingest_file`` for one file and origin D-001, stage by stage."""
    settings = load_settings()
    engine = make_engine(db_url)
    origin = Origin(ACCOUNT, str(path))
    now = dt.datetime.now(dt.UTC)
    meter = Meter(profile)
    baseline_mb = _status_kb("VmRSS") / 1024  # the interpreter and the imports of this module

    with meter.stage("read"):
        sha = file_sha256(path)
        with engine.connect() as conn:
            _require_new(ClaimsRepository(conn).find_batch_by_sha(sha))
        sheet = read_batch(path, settings.limits)
        sha = sheet.sha256 or sha  # as the service: the content actually read
        meter.rows = len(sheet.sent)
    with meter.stage("validate"):
        rows, format_issues = check_format(sheet, now.date())
        policy = settings.policy(now)
    with ExitStack() as transaction:
        with meter.stage("decide"):
            conn = transaction.enter_context(posting_transaction(engine))
            repo = ClaimsRepository(conn)
            _require_new(repo.find_batch_by_sha(sha))
            ref = _reference(repo, rows, origin.account_id, now, settings.lockout_hours)
            decision = decide(rows, format_issues, origin.account_id, ref, policy)
        with meter.stage("post"):
            batch_id = new_batch_id()
            claim_ids = repo.allocate_claim_ids(now.year, decision.claims_accepted)
        with meter.stage("report"):
            report = report_input(sheet, decision, claim_ids, batch_id, origin.account_id,
                                   policy.terms)
            reports = (write_reports(report, reports_dir, f"{path.stem}.{sha[:12]}")
                       if len(decision.issues) else {})
        with meter.stage("post"):
            post_decision(repo, decision, claim_ids, sheet, batch_id, origin.source,
                          origin.account_id, sha, now)
            transaction.close()  # commit
    with meter.stage("result"):
        result = batch_result(origin.source, origin, batch_id, decision, claim_ids, report,
                         reports, sheet)
        document = json.dumps({"batches": [result.to_json()]}, default=str)
    engine.dispose()
    if profile:
        meter.hot_functions(reports_dir.parent)
    return {
        "file": str(path), "rows": meter.rows, "peak_method": meter.peak_method,
        "profiled": profile, "baseline_mb": baseline_mb, "claims_accepted": result.claims_accepted,
        "claims_rejected": result.claims_rejected, "issues": len(decision.issues),
        "json_bytes": len(document),
        "stages": [asdict(s) for s in meter.stages.values()],
    }


def growth(files: list[dict]) -> str:
    """Per stage: rows/s and peak MB at each size, and the cost per row relative to the
    smallest size (1.00 = linear)."""
    names = [s["name"] for s in files[0]["stages"]["stages"]] + ["sum"]
    sizes = [f["rows"] for f in files]

    def figures(f: dict, name: str) -> tuple[float, float]:
        stages = f["stages"]["stages"]
        if name == "sum":
            return sum(s["seconds"] for s in stages), max(s["peak_mb"] for s in stages)
        stage = next(s for s in stages if s["name"] == name)
        return stage["seconds"], stage["peak_mb"]

    cell = 11
    head = f"{'stage':<9} {'':<10}" + "".join(f"{n:>{cell},}" for n in sizes)
    lines = [head, "-" * len(head)]
    for name in names:
        per_row = [figures(f, name)[0] / f["rows"] for f in files]
        lines.append(f"{name:<9} {'rows/s':<10}" + "".join(
            f"{1 / t:>{cell},.0f}" for t in per_row))
        lines.append(f"{'':<9} {'µs/row':<10}" + "".join(f"{t * 1e6:>{cell}.1f}" for t in per_row))
        lines.append(f"{'':<9} {'vs first':<10}" + "".join(
            f"{t / per_row[0]:>{cell}.2f}" for t in per_row))
        lines.append(f"{'':<9} {'peak MB':<10}" + "".join(
            f"{figures(f, name)[1]:>{cell},.0f}" for f in files))
    return "\n".join(lines)


def by_sizes(sizes: list[int], kind: str, profile: bool, out: Path) -> None:
    """The stages of a generated batch of each size, each in a fresh process and database."""
    limits = big_file_env()  # the 1M-row csv is above the default file and cell caps
    os.environ.update(limits)
    print("environment: " + ", ".join(f"{k}={v}" for k, v in limits.items()))
    OUT.mkdir(parents=True, exist_ok=True)
    info = machine()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()))
    files: list[dict] = []
    for rows in sizes:
        path = generate(kind, rows)
        print(f"stages of {path.name} (fresh process, fresh database):", flush=True)
        stages = run_stages(path, profile)
        files.append({"file": str(path), "bytes": path.stat().st_size, "rows": stages["rows"],
                      "stages": stages})
        print(f"  sum {sum(s['seconds'] for s in stages['stages']):.2f} s, peak "
              f"{max(s['peak_mb'] for s in stages['stages']):.0f} MB ({stages['peak_method']})",
              flush=True)
    print()
    print(table(files))
    print(growth(files))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": info, "kind": kind, "sizes": sizes, "files": files,
                               "environment": limits},
                              indent=2, default=str))
    print(f"results written to {out}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.stages", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", type=Path, nargs="?", help="one batch (with --db-url, --reports, "
                   "--out), run in this process")
    p.add_argument("--db-url")
    p.add_argument("--reports", type=Path)
    p.add_argument("--out", type=Path)
    p.add_argument("--profile", action="store_true")
    p.add_argument("--sizes", help="driver mode: comma-separated batch sizes, e.g. "
                   "10k,50k,200k,1M; each generated and run in a fresh process")
    p.add_argument("--kind", choices=("csv", "xlsx"), default="csv",
                   help="with --sizes: the batch format (default csv)")
    p.add_argument("--json", type=Path, default=None,
                   help="with --sizes: results file (default bench/out/stages-<kind>.json)")
    args = p.parse_args(argv)
    if args.sizes:
        if args.file is not None:
            p.error("give either FILE or --sizes")
        sizes = [parse_count(s) for s in args.sizes.split(",") if s.strip()]
        by_sizes(sizes, args.kind, args.profile, args.json or OUT / f"stages-{args.kind}.json")
        return
    if args.file is None or not (args.db_url and args.reports and args.out):
        p.error("FILE, --db-url, --reports and --out are required (or use --sizes)")
    result = run(args.file, args.db_url, args.reports, args.profile)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
