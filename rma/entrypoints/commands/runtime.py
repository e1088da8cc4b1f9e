"""What the commands need to run: the claims database (ready, or a clear error), the console
progress and a flow run that stops gracefully (Prefect's defaults for the runs this program
starts are ``rma.entrypoints.prefect_env``'s)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from rma.entrypoints.commands.output import print_batches

if TYPE_CHECKING:
    import sqlalchemy as sa

    from rma.domain.vocabulary.results import Batches


@contextmanager
def ready_engine() -> Iterator[sa.Engine]:
    """The configured claims database, checked to be reachable and migrated, for the length
    of one command: disposed after it, also when the check fails, so that no pooled connection
    is left for the garbage collector to close (a ResourceWarning, and an open file)."""
    from rma.adapters.db.engine import ensure_ready, make_engine
    from rma.config import load_settings

    settings = load_settings()
    engine = make_engine(settings.database_url, settings.db_pool)
    try:
        ensure_ready(engine)
        yield engine
    finally:
        engine.dispose()


def check_database() -> None:
    """Fail fast, with one clear line, when the claims database is not ready; before a command
    hands the work to a flow run (which opens its own engine)."""
    with ready_engine():
        pass


def progress(as_json: bool) -> AbstractContextManager[None]:
    """Console progress of a flow run (``rma.service.progress``): never with --json (stdout is the
    JSON document), else RMA_PROGRESS (auto: a bar on a terminal, plain lines otherwise)."""
    from rma.config import load_settings
    from rma.entrypoints.progress import showing

    return showing("off" if as_json else load_settings().progress)


def run_stoppable(flow: Any, *args: Any) -> Batches:
    """Run a flow so that SIGINT/SIGTERM stop it gracefully (``rma.service.stopping``): the first
    signal lets the batches in progress finish and takes nothing new, a second aborts."""
    from rma.service import stopping

    with stopping.handling():
        return stopping.run_in_thread(flow, *args)


def stopped(batches: Sequence[dict[str, Any]], as_json: bool) -> int | None:
    """After a graceful stop: the batches done, one line saying so, and 130 (SIGINT) or 143
    (SIGTERM); None when no signal came."""
    from rma.service import stopping

    signum = stopping.signal_received()
    if signum is None:
        return None
    message = (f"interrupted by {signal.Signals(signum).name}: {len(batches)} batch(es) "
               "done; the files and e-mails not taken wait for the next run")
    print_batches(batches, as_json, {"code": "INTERRUPTED", "message": message})
    print(f"rma: {message}", file=sys.stderr)
    return stopping.exit_status()
