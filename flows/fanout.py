"""The nightly run spread over a Prefect work pool: the night's files go, a group at a time,
to ``ingest-files`` flow runs of the deployment named by RMA_FANOUT_DEPLOYMENT, which the
pool's workers pick up on whatever machines they run. Each child posts its files and settles
them (archive / quarantine) itself; the parent waits for the children's final states and
summarises from the claims database (``rma.service.fanout``), never from results kept on a worker.

Every machine needs the same view of the inbox (same absolute path: a shared mount) and the
same RMA_DATABASE_URL; children read their settings from their worker's environment, so no
database credentials travel as flow-run parameters.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from pathlib import Path
from uuid import UUID

import sqlalchemy as sa
from prefect import get_client, get_run_logger
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound
from prefect.runtime import flow_run as current_run

from rma.adapters.inbox.folders import WaitingFile
from rma.config import Settings
from rma.domain.vocabulary.results import BatchResult
from rma.errors import ConfigError
from rma.service.fanout import dispatch_plan, group_files, settled_results

#: how often the parent asks the API whether its children have finished
POLL_SECONDS = 2.0


def fan_out(waiting: Sequence[WaitingFile], root: Path, reports: str, engine: sa.Engine,
            settings: Settings) -> list[BatchResult]:
    """Hand the waiting files to child runs in groups, wait for them, and say what became of
    every file (in the order of ``waiting``)."""
    name = settings.fanout_deployment
    assert name is not None
    _check_deployment(name)
    logger = get_run_logger()
    plan = dispatch_plan(waiting, engine)
    groups = group_files([d.item for d in plan], {d.item.path: d.size for d in plan},
                         target_files=settings.fanout_group_files,
                         target_bytes=settings.fanout_group_bytes)
    since = dt.datetime.now(dt.UTC)
    children = [_start_child(name, group, root, reports, n) for n, group in enumerate(groups)]
    logger.info("%d file(s) in %d group(s) handed to %s: %s", len(plan), len(groups), name,
                ", ".join(run.name for run in children))
    finished = wait_for_runs([run.id for run in children], settings.fanout_timeout_seconds)
    failures: dict[Path, str | None] = {}
    for run, group in zip(children, groups, strict=True):
        why = _failure(finished.get(run.id, run), settings.fanout_timeout_seconds)
        if why:
            logger.warning("%s: %s", name, why)
        failures.update({item.path: why for item in group})
    return settled_results(engine, plan, failures, Path(reports),
                           settings.beside_inbox("quarantine", root), since)


def _check_deployment(name: str) -> None:
    """A missing fan-out deployment is a configuration error, said once, before any work."""
    try:
        with get_client(sync_client=True) as client:
            client.read_deployment_by_name(name)
    except ObjectNotFound:
        raise ConfigError(
            f"RMA_FANOUT_DEPLOYMENT={name!r}: no such deployment on the Prefect API; deploy "
            "prefect.yaml (`prefect deploy --all`) or unset RMA_FANOUT_DEPLOYMENT to process "
            "the inbox on this machine") from None


def _start_child(name: str, group: Sequence[WaitingFile], root: Path, reports: str,
                 n: int) -> FlowRun:
    parent = current_run.id
    started = run_deployment(
        name,
        parameters={"paths": [str(w.path) for w in group],
                    "accounts": [w.account_id for w in group],
                    "reports_dir": reports, "inbox": str(root.resolve())},
        timeout=0,
        tags=["rma-fanout"],
        # a retried parent finds the runs it already started instead of starting more
        idempotency_key=f"{parent}:{n}:{group[0].path}" if parent else None,
    )
    if not isinstance(started, FlowRun):  # called from sync code: never a coroutine here
        raise TypeError(f"run_deployment returned {type(started).__name__}")
    return started


def wait_for_runs(ids: Sequence[UUID], timeout: float) -> dict[UUID, FlowRun]:
    """Poll the API until every run is in a final state or ``timeout`` seconds have passed;
    the runs as last seen."""
    deadline = time.monotonic() + timeout
    seen: dict[UUID, FlowRun] = {}
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(ids))),
                limit=len(ids))
            seen.update({run.id: run for run in runs})
            done = all((run := seen.get(i)) is not None and run.state is not None
                       and run.state.is_final() for i in ids)
            if done or time.monotonic() >= deadline:
                return seen
            time.sleep(POLL_SECONDS)


def _failure(run: FlowRun, timeout: float) -> str | None:
    """None for a run that completed; otherwise why its files may not have been processed."""
    state = run.state
    if state is not None and state.is_completed():
        return None
    if state is None or not state.is_final():
        return (f"flow run {run.name!r} had not finished after {timeout:.0f} s "
                f"({state.name if state else 'no state'}); it may still settle its files")
    message = f": {state.message}" if state.message else ""
    return f"flow run {run.name!r} ended {state.name}{message}"
