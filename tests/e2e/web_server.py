"""A real `rma web` process for the tests that need one (tests/e2e/test_web_process.py, the
browser tier in tests/browser): a seeded SQLite claims database in a folder of its own, a
free port on 127.0.0.1, the test session's Prefect API; stopped with SIGTERM, and then it must
have shut down gracefully (uvicorn's last line, no traceback)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.e2e.conftest import RMA, run_subprocess, seed_database, stop_server
from tests.smtpserver import free_port

#: a cold start imports Prefect and the flows: slow on a loaded 2-core machine
STARTUP_SECONDS = 90


@dataclass(frozen=True)
class Web:
    """A running `rma web`: its address, the environment it runs with (for CLI commands on
    the same database), its folder (database, inbox, outbox) and its log file."""

    base: str
    env: dict[str, str]
    folder: Path
    log: Path

    def rma(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``rma ARGS`` on the server's database and settings, as operations would run it."""
        return run_subprocess(list(args), self.env, self.folder)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def running_web(folder: Path, prefect_api: str, links_to_itself: bool = False,
                extra_env: dict[str, str] | None = None) -> Iterator[Web]:
    """`rma web` on a seeded database in ``folder`` until the block ends. With
    ``links_to_itself`` RMA_PORTAL_URL is the server's own address, so that the sign-in links
    `rma users add` prints and mails open on it."""
    url = f"sqlite:///{folder / 'claims.db'}"
    seed_database(url, folder)
    (folder / "inbox").mkdir(exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"RMA_DATABASE_URL": url, "RMA_INBOX": str(folder / "inbox"),
           "PREFECT_API_URL": prefect_api, **(extra_env or {})}
    if links_to_itself:
        env["RMA_PORTAL_URL"] = base
    log = folder / "rma-web.log"
    # the log goes to a file, not a pipe: a pipe nobody reads fills up with the access log
    # and then blocks the server
    with log.open("w", encoding="utf-8") as sink:
        process = subprocess.Popen([RMA, "web", "--port", str(port)], cwd=folder,
                                   env={**os.environ, **env}, stdout=sink,
                                   stderr=subprocess.STDOUT, text=True)
    web = Web(base, env, folder, log)
    try:
        _wait_until_up(process, web)
        yield web
    finally:
        stop_server(process, timeout=30)
    # uvicorn shuts down gracefully, then ends by the signal it was sent (exit status 143)
    output = web.output()
    assert process.returncode == -signal.SIGTERM, output
    assert "Finished server process" in output and "Traceback" not in output, output


def _wait_until_up(process: subprocess.Popen[str], web: Web) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        assert process.poll() is None, web.output()
        try:
            httpx.get(web.base + "/api/docs", timeout=2)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline, "rma web did not start:\n" + web.output()
            time.sleep(0.2)
