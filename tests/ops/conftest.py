"""The operations tier: a real ``prefect server start`` on a free loopback port with its own
PostgreSQL database, real ``prefect worker`` and ``rma serve`` processes. Every process is
started in a session of its own and stopped with its whole process group; every database
is dropped and every Prefect home removed, whatever the test's outcome.

Select with ``-m ops``; needs the local PostgreSQL (as the ``postgres`` tier does)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import temp_pg_database

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PREFECT = str(BIN / "prefect")
RMA = str(BIN / "rma")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "ops: real Prefect server, workers and `rma serve` processes (tests/ops)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env() -> dict[str, str]:
    """This environment without any PREFECT_* or RMA_* setting of the test session."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("PREFECT_", "RMA_"))}


class Process:
    """A child process in a session of its own, its output in a log file."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path):
        self.args, self.log = list(args), log
        self._out = log.open("wb")
        self.popen = subprocess.Popen(self.args, env=dict(env), cwd=cwd, stdout=self._out,
                                      stderr=subprocess.STDOUT, start_new_session=True)

    def tail(self, lines: int = 40) -> str:
        self._out.flush()
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, grace: float = 20) -> int | None:
        """SIGTERM to the process group, SIGKILL to whatever is left after ``grace``."""
        try:
            if self.alive():
                os.killpg(self.popen.pid, signal.SIGTERM)
                with suppress(subprocess.TimeoutExpired):
                    self.popen.wait(grace)
            with suppress(ProcessLookupError):  # stragglers of the group
                os.killpg(self.popen.pid, signal.SIGKILL)
            try:
                return self.popen.wait(10)
            except subprocess.TimeoutExpired:  # pragma: no cover - unkillable
                return None
        finally:
            self._out.close()


@contextmanager
def started(args: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path
            ) -> Iterator[Process]:
    process = Process(args, env, cwd, log)
    try:
        yield process
    finally:
        process.stop()


def wait_until(what: str, check, timeout: float, every: float = 0.5,
               process: Process | None = None):
    """Poll ``check()`` until it returns something truthy; fail with the process log."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if process is not None and not process.alive():
            pytest.fail(f"{what}: {process.args[:4]} exited with {process.popen.returncode}:"
                        f"\n{process.tail()}")
        if time.monotonic() > deadline:
            log = f"\n{process.tail()}" if process is not None else ""
            pytest.fail(f"{what}: not after {timeout:.0f} s{log}")
        time.sleep(every)


@dataclass
class PrefectServer:
    api_url: str
    home: Path
    env: dict[str, str]  # for every process that talks to this server
    process: Process


def _healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def running_prefect_server(workdir: Path) -> Iterator[PrefectServer]:
    """``prefect server start`` on 127.0.0.1 and a free port, backed by a temporary
    PostgreSQL database, with a temporary PREFECT_HOME; all gone afterwards."""
    home = workdir / "prefect-home"
    home.mkdir(parents=True)
    try:
        with temp_pg_database("rma_ops_prefect") as db_url:
            port = free_port()
            api_url = f"http://127.0.0.1:{port}/api"
            env = {**base_env(), "PREFECT_HOME": str(home), "PREFECT_API_URL": api_url,
                   "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                   "PREFECT_LOGGING_LEVEL": "INFO"}
            server_env = {**env, "PREFECT_API_DATABASE_CONNECTION_URL": str(
                sa.make_url(db_url).set(drivername="postgresql+asyncpg")
                .render_as_string(hide_password=False))}
            with started([PREFECT, "server", "start", "--host", "127.0.0.1", "--port",
                          str(port), "--no-ui"], server_env, workdir,
                         workdir / "server.log") as process:
                wait_until("the Prefect server answering /health",
                           lambda: _healthy(api_url), 120, process=process)
                yield PrefectServer(api_url, home, env, process)
    finally:
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def api(server: PrefectServer):
    """This test process's Prefect client settings pointed at ``server`` for the block."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        yield


def run(args: Sequence[str], env: Mapping[str, str], cwd: Path, timeout: float = 120
        ) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(args), env=dict(env), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{args[:4]} failed ({done.returncode}):\n{done.stdout}\n" \
                                 f"{done.stderr}"
    return done


@contextmanager
def prefect_run_log() -> Iterator[list[str]]:
    """The INFO messages of Prefect's flow- and task-run loggers while the block runs."""
    import logging

    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Keep(logging.INFO)
    loggers = [logging.getLogger(n) for n in ("prefect.flow_runs", "prefect.task_runs")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
