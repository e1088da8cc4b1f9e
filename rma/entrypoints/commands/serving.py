"""``rma serve``: the nightly deployment served by this process on a Prefect server."""

from __future__ import annotations

import argparse
from contextlib import suppress

from rma.entrypoints.commands.output import EXIT_FAILED, EXIT_OK
from rma.entrypoints.commands.runtime import check_database
from rma.entrypoints.prefect_env import prefect_defaults
from rma.errors import ConfigError


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the nightly deployment on the Prefect server of PREFECT_API_URL (a temporary
    local API would take the schedule with it when the process ends)."""
    from rma.config import load_settings

    settings = load_settings()
    if not settings.inbox.is_dir():
        raise ConfigError(f"{settings.inbox}: the inbox folder does not exist (RMA_INBOX)")
    check_database()
    prefect_defaults()
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        raise ConfigError("rma serve needs a Prefect server: set PREFECT_API_URL "
                          "(e.g. http://127.0.0.1:4200/api for `prefect server start`)")
    from flows.serve import DEPLOYMENT, nightly_options, run_nightly_once, serve_nightly

    nightly_options(settings)  # a wrong cron is a usage error before anything starts
    if args.once:
        run = run_nightly_once(settings)
        state = run.state
        assert state is not None
        detail = f" ({state.message})" if state.message and not state.is_completed() else ""
        print(f"{DEPLOYMENT}: flow run {run.name} {state.name}{detail}.")
        return EXIT_OK if state.is_completed() else EXIT_FAILED
    print(f"Serving {DEPLOYMENT} on {PREFECT_API_URL.value()}: cron "
          f"{settings.schedule_cron!r} ({settings.timezone}), one run at a time, inbox "
          f"{settings.inbox}. Stop with Ctrl-C or SIGTERM.", flush=True)
    with suppress(KeyboardInterrupt):  # Ctrl-C is how a person stops serving
        serve_nightly(settings)
    print(f"Stopped serving {DEPLOYMENT} (its schedule is paused until served again).")
    return EXIT_OK
