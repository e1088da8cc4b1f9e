"""``rma serve``: the nightly ``run-inbox`` as a Prefect deployment served by this process.

The deployment carries the schedule (RMA_SCHEDULE_CRON in RMA_TIMEZONE) and a concurrency
limit of one run: a run that would start while another is going is cancelled by the Prefect
server ("Deployment concurrency limit reached"), never run beside it. prefect.yaml declares
the same deployment for a work pool; use one or the other for a given Prefect server.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from prefect import get_client
from prefect.client.schemas.objects import (
    ConcurrencyLimitConfig,
    ConcurrencyLimitStrategy,
    FlowRun,
)
from prefect.exceptions import ObjectNotFound
from prefect.runner import Runner
from prefect.schedules import Cron
from prefect.states import Scheduled

from flows.ingest import run_inbox
from rma.config import Settings
from rma.errors import ConfigError, RmaError

NIGHTLY = "nightly"
DEPLOYMENT = f"{run_inbox.name}/{NIGHTLY}"
#: `rma serve --once` gives up waiting for a run nobody has taken (it stays scheduled)
UNCLAIMED_SECONDS = 120
#: one run at a time; a second one is cancelled, not queued (queued runs have starved in
#: Prefect before, and the next night picks up whatever a cancelled run would have found)
ONE_AT_A_TIME = ConcurrencyLimitConfig(limit=1,
                                       collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)


def nightly_options(settings: Settings) -> dict[str, Any]:
    """The nightly deployment as configured: schedule, limit, tags. Inbox and database come
    from the environment of the process that runs it, as for ``rma run-inbox``."""
    try:
        schedule = Cron(settings.schedule_cron, timezone=settings.timezone)
    except ValueError as exc:
        raise ConfigError(f"RMA_SCHEDULE_CRON must be a cron expression such as "
                          f"'0 2 * * *', got {settings.schedule_cron!r}") from exc
    return {"name": NIGHTLY, "schedules": [schedule], "concurrency_limit": ONE_AT_A_TIME,
            "tags": ["rma"],
            "description": "The nightly claim intake: every file and mail waiting in the inbox."}


def serve_nightly(settings: Settings) -> None:
    """Register the deployment and run its scheduled (and manually started) runs until
    stopped (SIGTERM or Ctrl-C); stopping pauses the deployment, serving again resumes it."""
    options = nightly_options(settings)
    runner = Runner(name=f"rma-serve-{NIGHTLY}", pause_on_shutdown=True)
    # add_flow (not add_deployment): the runner starts the flow it holds in a subprocess
    # instead of loading code from a storage path, and clears any work-pool settings
    runner.add_flow(run_inbox, **options)
    asyncio.run(runner.start())


def run_nightly_once(settings: Settings) -> FlowRun:
    """Register the deployment, start one run of it now and execute it here; return the run
    in its final state (Cancelled when another run of the deployment was going)."""
    return asyncio.run(_run_once(nightly_options(settings)))


async def _run_once(options: dict[str, Any]) -> FlowRun:
    runner = Runner(name=f"rma-once-{NIGHTLY}", pause_on_shutdown=False)
    async with get_client() as client:
        try:  # registering resumes the deployment: put it back as it was afterwards
            was_paused = (await client.read_deployment_by_name(DEPLOYMENT)).paused
        except ObjectNotFound:
            was_paused = True  # nothing serves its schedule yet
        deployment_id = await runner.aadd_flow(run_inbox, **options)
        try:
            flow_run = await client.create_flow_run_from_deployment(
                deployment_id, state=Scheduled(), tags=["manual"])
            await runner.start(run_once=True)
            polled = time.monotonic()
            while True:  # another runner of the deployment may have taken it: wait
                flow_run = await client.read_flow_run(flow_run.id)
                state = flow_run.state
                if state is not None and state.is_final():
                    return flow_run
                if (state is None or state.is_scheduled()) and \
                        time.monotonic() - polled > UNCLAIMED_SECONDS:
                    raise RmaError(f"flow run {flow_run.name} of {DEPLOYMENT} was not picked "
                                   f"up within {UNCLAIMED_SECONDS} s; it stays scheduled "
                                   "for `rma serve`")
                await asyncio.sleep(1)
        finally:
            if was_paused:
                await client.pause_deployment(deployment_id)
