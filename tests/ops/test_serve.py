"""`rma serve` against a real Prefect server: it registers the nightly deployment with the
configured cron schedule, time zone and a limit of one run, executes runs of it, stops
cleanly on SIGTERM (pausing the schedule), and `rma serve --once` runs the deployment once
now and exits; wrong configuration is one line on stderr, never a traceback."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import time
from pathlib import Path

import pytest

from rma.entrypoints.cli import main
from tests.e2e.conftest import write_reference
from tests.factories import valid_claim, write_csv
from tests.ops.conftest import RMA, api, base_env, running_prefect_server, started, wait_until

pytestmark = pytest.mark.ops

NIGHTLY = "run-inbox/nightly"


def _site(base: Path) -> dict[str, str]:
    """An inbox and a migrated SQLite claims database with reference data; its settings."""
    inbox = base / "inbox"
    (inbox / "D-001").mkdir(parents=True)
    env = {"RMA_DATABASE_URL": f"sqlite:///{base / 'claims.db'}", "RMA_INBOX": str(inbox),
           "RMA_SETTLE_SECONDS": "0"}  # the files are written just before the run
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        assert main(["db", "upgrade"]) == 0
        accounts, codes = write_reference(base)
        assert main(["accounts", "import", str(accounts)]) == 0
        assert main(["codes", "import", str(codes)]) == 0
    return env


def _deployment(server):
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound

    with api(server), get_client(sync_client=True) as client:
        try:
            return client.read_deployment_by_name(NIGHTLY)
        except ObjectNotFound:
            return None


def _archived(base: Path) -> list[str]:
    day = dt.datetime.now(dt.UTC).date().isoformat()
    folder = base / "archive" / day / "D-001"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.mark.postgres  # the Prefect server's database
def test_rma_serve_registers_the_nightly_schedule_runs_it_and_stops_cleanly(tmp_path):
    env = _site(tmp_path)
    with running_prefect_server(tmp_path / "server") as server:
        serve_env = {**server.env, **env, "RMA_SCHEDULE_CRON": "15 3 * * 1-5",
                     "RMA_TIMEZONE": "Europe/Berlin"}
        t0 = time.monotonic()
        with started([RMA, "serve"], serve_env, tmp_path, tmp_path / "serve.log") as serve:
            deployment = wait_until("the served deployment with its schedule",
                                    lambda: _deployment(server), 60, process=serve)
            registered = time.monotonic() - t0
            [schedule] = deployment.schedules
            assert (schedule.schedule.cron, schedule.schedule.timezone, schedule.active) == \
                ("15 3 * * 1-5", "Europe/Berlin", True)
            assert deployment.global_concurrency_limit.limit == 1
            assert deployment.concurrency_options.collision_strategy.value == "CANCEL_NEW"
            assert deployment.work_pool_name is None and not deployment.paused

            # the serving process executes runs of the deployment (here: started by hand)
            write_csv(tmp_path / "inbox" / "D-001" / "a.csv", [valid_claim(), valid_claim()])
            from prefect.deployments import run_deployment

            with api(server):
                flow_run = run_deployment(NIGHTLY, timeout=120, as_subflow=False)
            assert flow_run.state.is_completed(), flow_run.state
            assert _archived(tmp_path) == ["a.csv"]

            serve.popen.send_signal(signal.SIGTERM)  # as systemd stops it
            assert serve.popen.wait(30) == 0, serve.tail()
        out = (tmp_path / "serve.log").read_text(encoding="utf-8")
        assert "Serving run-inbox/nightly" in out and "Stopped serving" in out
        assert "Traceback" not in out
        assert _deployment(server).paused  # nothing serves it now: no runs pile up

        # --once: registers the same deployment, runs it once now, leaves it paused
        write_csv(tmp_path / "inbox" / "D-001" / "b.csv", [valid_claim()])
        once = subprocess.run([RMA, "serve", "--once"], env=serve_env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=180)
        assert once.returncode == 0, once.stdout + once.stderr
        assert once.stdout.startswith(f"{NIGHTLY}: flow run ") and "Completed" in once.stdout
        assert _archived(tmp_path) == ["a.csv", "b.csv"]
        assert _deployment(server).paused
    print(f"rma serve registered its deployment in {registered:.1f} s")


@pytest.mark.parametrize("setting, value, message", [
    ("RMA_SCHEDULE_CRON", "every night", "RMA_SCHEDULE_CRON must be a cron expression"),
    ("RMA_TIMEZONE", "Mars/Olympus", "RMA_TIMEZONE must be an IANA time zone"),
    ("PREFECT_API_URL", "", "rma serve needs a Prefect server"),
])
def test_rma_serve_with_wrong_configuration_is_a_one_line_usage_error(
        tmp_path, setting, value, message):
    env = {**base_env(), **_site(tmp_path), "PREFECT_HOME": str(tmp_path / "home"),
           "PREFECT_API_URL": "http://127.0.0.1:9/api", setting: value}
    done = subprocess.run([RMA, "serve"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"rma: {message}") and len(done.stderr.splitlines()) == 1
    assert done.stdout == ""
