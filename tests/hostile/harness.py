"""Runs one hostile file (or e-mail) through the real service in a child process, so that a
protection that fails shows as a dead or slow child and a high peak, not as a dead test run.

Children fork from a forkserver that has imported the application once (a fresh interpreter
would spend ~3 s per case on imports). Each child reports its own peak RSS (``ru_maxrss``:
resident pages, so calamine's Rust allocations count; tracemalloc would not see them); it
includes the ~150 MB of imports it shares with the server. An address-space cap keeps a
runaway child from taking the machine with it: it dies instead (Rust aborts on a failed
allocation), which fails the test as surely as the time and memory assertions do.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Bounds every hostile case is held to (the issue: bounded time and memory).
MAX_SECONDS = 30.0
MAX_PEAK_MB = 700.0
#: A child past this much address space dies rather than swap the machine.
ADDRESS_SPACE_CAP = 6 * 1024**3

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["rma.service.batch", "rma.service.mail", "rma.config",
                                 "rma.adapters.db.engine", "tests.hostile.harness"])


@dataclass
class Outcome:
    """What became of one hostile input in its child process."""

    result: dict[str, Any] | None  # BatchResult.to_json() (mail: MessageOutcome.to_json())
    error: str | None  # the traceback if something escaped the service
    exit_code: int | None
    seconds: float
    peak_mb: float

    @property
    def code(self) -> str | None:
        return ((self.result or {}).get("error") or {}).get("code")

    @property
    def message(self) -> str:
        return ((self.result or {}).get("error") or {}).get("message", "")

    def describe(self) -> str:
        return (f"exit {self.exit_code}, {self.seconds:.2f} s, peak {self.peak_mb:.0f} MB, "
                f"error {self.error!r}, result {self.result!r}")


def _child(conn: Any, kind: str, path: str, account: str | None, database_url: str,
           reports: str, outbox: str, env: dict[str, str]) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_CAP, ADDRESS_SPACE_CAP))
    os.environ.update(env)
    payload: dict[str, Any] = {}
    try:
        from rma.adapters.db.engine import make_engine
        from rma.config import load_settings
        from rma.service.batch import ingest_file
        from rma.service.mail import ingest_message
        from rma.service.origin import Origin

        settings = load_settings()
        engine = make_engine(database_url)
        if kind == "mail":
            outcome = ingest_message(Path(path).read_bytes(), path, engine, settings,
                                     Path(reports), Path(outbox))
            payload["result"] = outcome.to_json()
        else:
            result = ingest_file(Path(path), Origin(account, path), engine, settings,
                                 Path(reports))
            payload["result"] = result.to_json()
        engine.dispose()
    except BaseException:  # noqa: BLE001 - whatever escapes is what the test must see
        payload["error"] = traceback.format_exc()
    payload["peak_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    conn.send(payload)
    conn.close()


def run_hostile(path: Path, database_url: str, reports: Path, *, account: str | None = "D-001",
                env: dict[str, str] | None = None, kind: str = "file",
                outbox: Path | None = None, timeout: float = 120.0) -> Outcome:
    """Ingest ``path`` in a child process; wall time is measured from here."""
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    child = _CONTEXT.Process(target=_child, args=(
        sender, kind, str(path), account, database_url, str(reports),
        str(outbox or reports.parent / "outbox"), dict(env or {})))
    started = time.monotonic()
    child.start()
    sender.close()
    payload: dict[str, Any] = {}
    with contextlib.suppress(EOFError):  # EOF: the child died without a word (killed)
        if receiver.poll(timeout):
            payload = receiver.recv()
    seconds = time.monotonic() - started
    child.join(5)
    if child.is_alive():
        child.kill()
        child.join()
    receiver.close()
    return Outcome(result=payload.get("result"), error=payload.get("error"),
                   exit_code=child.exitcode, seconds=seconds,
                   peak_mb=payload.get("peak_kb", 0) / 1024)
