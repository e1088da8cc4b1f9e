"""Benchmark the claim intake pipeline on a large xlsx and a large csv batch.

    .venv/bin/python -m bench.run [--quick] [--rows-xlsx N] [--rows-csv N] [--no-cli]
                                  [--profile] [--json PATH]
    .venv/bin/python -m bench.run --targets [bench.targets options]   (= python -m bench.targets)

Generates the batches into bench/out/ (cached by name and size), runs each one stage by stage
in a fresh subprocess against a fresh SQLite database (``bench.stages``), then times the real
``rma ingest FILE --account D-001 --json`` from outside against a Prefect server started here.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from rma.adapters.db.engine import make_engine, upgrade
from rma.adapters.db.reference_accounts import import_accounts
from tests.factories import generate_rows, write_csv, write_xlsx

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
BIN = Path(sys.executable).parent  # the venv's bin/: rma and prefect live beside python
#: Limits raised for the bench's own runs unless already set in the environment: the
#: 1M-row csv (~230 MB, 22M cells) is above the default upload cap (RMA_MAX_FILE_BYTES, 50 MiB)
#: and cell cap (RMA_MAX_CELLS) and would otherwise be refused as TOO_LARGE.
BIG_FILE_ENV = {"RMA_MAX_FILE_BYTES": str(1 << 30), "RMA_MAX_CELLS": str(50_000_000)}


def big_file_env() -> dict[str, str]:
    """``BIG_FILE_ENV`` as it applies here (a value set in the environment wins)."""
    return {k: os.environ.get(k, v) for k, v in BIG_FILE_ENV.items()}


def accounts_csv(accounts: tuple[str, ...] = ("D-001",)) -> str:
    """The accounts file registering each of ``accounts`` as an active distributor."""
    lines = ["account_id,name,kind,partner_level,emails,country,active"]
    lines += [f"{a},Bench Distribution {a},distributor,,bench-{a.lower()}@example.com,DE,true"
              for a in accounts]
    return "\r\n".join(lines) + "\r\n"


def parse_count(text: str) -> int:
    """``200000``, ``200k``, ``1M``, ``1_000_000`` -> an int."""
    text = text.strip().replace("_", "").replace(",", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:].lower(), 1)
    return int(float(text[:-1] if factor > 1 else text) * factor)


def machine() -> dict[str, Any]:
    mem = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "ram_gib": round(int(mem["MemTotal"].split()[0]) / 1024**2, 1),
        "ram_available_gib": round(int(mem["MemAvailable"].split()[0]) / 1024**2, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg": os.getloadavg(),
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def generate(kind: str, rows: int, seed: int = 0) -> Path:
    """bench/out/claims-<rows>.<kind> (``-seed<N>`` before the suffix for another seed), ~10%
    bad rows; reused when it already exists."""
    path = OUT / (f"claims-{rows}.{kind}" if seed == 0 else f"claims-{rows}-seed{seed}.{kind}")
    if path.exists():
        print(f"  {path.name}: cached ({path.stat().st_size / 1e6:.1f} MB)")
        return path
    start = time.perf_counter()
    tmp = path.with_name(f".partial-{path.name}")
    write = write_xlsx if kind == "xlsx" else write_csv
    write(tmp, generate_rows(rows, bad_ratio=0.1, seed=seed))
    os.replace(tmp, path)
    print(f"  {path.name}: generated in {time.perf_counter() - start:.1f} s "
          f"({path.stat().st_size / 1e6:.1f} MB)")
    return path


def fresh_database(workdir: Path, accounts: tuple[str, ...] = ("D-001",)) -> str:
    """A new SQLite database in workdir, migrated, with the distributor(s) registered."""
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in workdir.glob("rma.db*"):
        stale.unlink()
    url = f"sqlite:///{workdir / 'rma.db'}"
    setup_database(url, accounts, workdir)
    return url


def setup_database(url: str, accounts: tuple[str, ...] = ("D-001",),
                   folder: Path = OUT) -> None:
    """Migrate the (empty) database at ``url`` and register ``accounts`` as distributors."""
    upgrade(url)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "accounts.csv"
    path.write_text(accounts_csv(accounts))
    engine: sa.Engine = make_engine(url)
    with engine.begin() as conn:
        import_accounts(conn, path)
    engine.dispose()


def run_stages(path: Path, profile: bool) -> dict[str, Any]:
    """``bench.stages`` on one file in a fresh interpreter and database."""
    workdir = OUT / "work" / f"{path.name}-stages"
    url = fresh_database(workdir)
    result = workdir / "stages.json"
    cmd = [sys.executable, "-m", "bench.stages", str(path), "--db-url", url,
           "--reports", str(workdir / "reports"), "--out", str(result)]
    subprocess.run(cmd + (["--profile"] if profile else []), cwd=ROOT, check=True)
    return json.loads(result.read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def prefect_server(home: Path, timeout: float = 180) -> Iterator[str]:
    """A ``prefect server`` on a free loopback port with its own PREFECT_HOME; yields its API
    URL once /api/health answers, and stops it (its whole process group) on exit."""
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_UI_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}
    env.pop("PREFECT_API_URL", None)
    log = (home / "server.log").open("wb")
    server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1",
                               "--port", str(port)], env=env, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    api = f"http://127.0.0.1:{port}/api"
    try:
        start = time.perf_counter()
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"prefect server exited ({server.returncode}); "
                                   f"see {home / 'server.log'}")
            try:
                with urllib.request.urlopen(api + "/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.perf_counter() - start > timeout:
                raise RuntimeError(f"prefect server not healthy after {timeout:.0f} s")
            time.sleep(0.5)
        print(f"  Prefect server up at {api} after {time.perf_counter() - start:.1f} s "
              "(not counted)")
        yield api
    finally:
        stop_group(server)
        log.close()


def stop_group(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM a served process started in a session of its own (its workers too), SIGKILL
    if it has not ended in 30 s."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def run_cli(path: Path, api_url: str, home: Path) -> dict[str, Any]:
    """Wall time and peak RSS (wait4 rusage of that child) of the real ``rma ingest``."""
    workdir = OUT / "work" / f"{path.name}-cli"
    url = fresh_database(workdir)
    env = {**os.environ, "RMA_DATABASE_URL": url, "RMA_REPORTS": str(workdir / "reports"),
           "PREFECT_API_URL": api_url, "PREFECT_HOME": str(home / "client"),
           "PREFECT_LOGGING_LEVEL": "WARNING", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    stdout, stderr = workdir / "cli.json", workdir / "cli.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        start = time.perf_counter()
        child = subprocess.Popen([str(BIN / "rma"), "ingest", str(path), "--account", "D-001",
                                  "--json"], cwd=workdir, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"rma ingest exited {child.returncode}: "
                           f"{stderr.read_text()[-2000:]}")
    batch = json.loads(stdout.read_text())["batches"][0]
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "status": batch["status"],
            "claims_accepted": batch["claims_accepted"],
            "claims_rejected": batch["claims_rejected"], "error": batch["error"]}


def table(files: list[dict[str, Any]]) -> str:
    head = f"{'file':<20} {'stage':<12} {'rows':>8} {'seconds':>8} {'rows/s':>9} " \
           f"{'peak MB':>8} {'+MB':>7}"
    lines = [head, "-" * len(head)]
    for f in files:
        name, stages = Path(f["file"]).name, f["stages"]["stages"]
        for s in stages:
            lines.append(_line(name, s["name"], f["rows"], s["seconds"], s["peak_mb"],
                               s["peak_mb"] - s["start_mb"]))
        lines.append(_line(name, "sum", f["rows"], sum(s["seconds"] for s in stages),
                           max(s["peak_mb"] for s in stages)))
        if f.get("cli"):
            lines.append(_line(name, "CLI (whole)", f["rows"], f["cli"]["seconds"],
                               f["cli"]["peak_mb"]))
        lines.append("")
    return "\n".join(lines)


def _line(name: str, stage: str, rows: int, seconds: float, peak: float,
          grew: float | None = None) -> str:
    grew_text = f"{grew:7.0f}" if grew is not None else f"{'':7}"
    return (f"{name:<20} {stage:<12} {rows:>8} {seconds:>8.2f} {rows / seconds:>9,.0f} "
            f"{peak:>8.0f} {grew_text}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows-xlsx", type=int, default=None, help="xlsx rows (default 50000)")
    p.add_argument("--rows-csv", type=int, default=None, help="csv rows (default 200000)")
    p.add_argument("--quick", action="store_true", help="smoke run: 5000 xlsx / 20000 csv rows")
    p.add_argument("--no-cli", action="store_true", help="skip timing the real `rma ingest`")
    p.add_argument("--profile", action="store_true",
                   help="cProfile every stage, print its top 5 functions, keep <stage>.prof "
                   "files in bench/out/work/ (slows every stage down)")
    p.add_argument("--json", type=Path, default=OUT / "results.json", help="results file")
    args = p.parse_args(argv)
    sizes = {"xlsx": args.rows_xlsx or (5_000 if args.quick else 50_000),
             "csv": args.rows_csv or (20_000 if args.quick else 200_000)}
    OUT.mkdir(parents=True, exist_ok=True)
    info = machine()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()))

    print("batches:")
    paths = [generate(kind, rows) for kind, rows in sizes.items()]
    files: list[dict[str, Any]] = []
    for path in paths:
        print(f"stages of {path.name} (fresh process, fresh database):")
        stages = run_stages(path, args.profile)
        files.append({"file": str(path), "bytes": path.stat().st_size, "rows": stages["rows"],
                      "stages": stages})
        for s in stages["stages"]:
            print(f"  {s['name']:<9} {s['seconds']:7.2f} s {stages['rows'] / s['seconds']:>10,.0f}"
                  f" rows/s  peak {s['peak_mb']:6.0f} MB")
        print(f"  peak RSS measured as: {stages['peak_method']}; "
              f"{stages['claims_accepted']} claims accepted, {stages['claims_rejected']} "
              f"rejected, {stages['issues']} issues")
    if not args.no_cli:
        with tempfile.TemporaryDirectory(prefix="bench-prefect-") as tmp:
            print("CLI: rma ingest FILE --account D-001 --json (fresh database each)")
            with prefect_server(Path(tmp)) as api:
                for f in files:
                    f["cli"] = cli = run_cli(Path(f["file"]), api, Path(tmp))
                    share = cli["claims_accepted"] / max(1, f["rows"])
                    print(f"  {Path(f['file']).name}: {cli['seconds']:.2f} s wall, peak "
                          f"{cli['peak_mb']:.0f} MB, {cli['status']}: {cli['claims_accepted']} "
                          f"accepted ({share:.0%} of rows), {cli['claims_rejected']} rejected")

    print()
    print(table(files))
    if args.profile:
        for f in files:
            for s in f["stages"]["stages"]:
                print(f"{Path(f['file']).name} {s['name']}: top functions by own time "
                      "(under cProfile)")
                print("\n".join("  " + h for h in s["hot"]))
                print("  project functions by cumulative time:")
                print("\n".join("  " + h for h in s["hot_project"]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"machine": info, "sizes": sizes, "files": files},
                                    indent=2, default=str))
    print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
