"""Inbox run records (``runs``): written when a run starts and when it ends."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import socket
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from rma.adapters.db import tables as t
from rma.domain.vocabulary.results import BatchResult


def _writer(engine: sa.Engine) -> sa.Connection:
    return engine.connect().execution_options(rma_writer=True)


def start_run(engine: sa.Engine, inbox: str, flow_run_id: str | None = None,
              now: dt.datetime | None = None) -> str:
    """Record a run that has just taken the inbox lock. Earlier runs of the same inbox still
    marked ``running`` cannot be alive (they would hold the lock): they are ``interrupted``."""
    now = now or dt.datetime.now(dt.UTC)
    run_id = "R-" + secrets.token_hex(8)
    with _writer(engine) as conn, conn.begin():
        conn.execute(t.runs.update()
                     .where(t.runs.c.inbox == inbox, t.runs.c.status == "running")
                     .values(status="interrupted"))
        conn.execute(t.runs.insert().values(
            run_id=run_id, inbox=inbox, host=socket.gethostname(), pid=os.getpid(),
            flow_run_id=flow_run_id, started_at=now, status="running"))
    return run_id


def finish_run(engine: sa.Engine, run_id: str, results: Sequence[BatchResult],
               error: str | None = None, now: dt.datetime | None = None,
               interrupted: bool = False) -> None:
    """Record how a run ended: ``interrupted`` when it was stopped by a signal (``error``
    then says how), else ``failed`` with an ``error``, else ``finished``; the counts are
    those of ``results``, the batches it completed."""
    failed = [r for r in results if r.status == "failed"]
    posted = [r for r in results if r.status == "posted"]
    failures = [{"source": r.source, "code": (r.error or {}).get("code"),
                 "message": (r.error or {}).get("message")} for r in failed]
    with _writer(engine) as conn, conn.begin():
        conn.execute(t.runs.update().where(t.runs.c.run_id == run_id).values(
            status="interrupted" if interrupted else "failed" if error else "finished",
            finished_at=now or dt.datetime.now(dt.UTC),
            files=len(results), batches_posted=len(posted), batches_failed=len(failed),
            claims_accepted=sum(r.claims_accepted for r in posted),
            claims_rejected=sum(r.claims_rejected for r in posted),
            failures=json.dumps(failures), error=error))


def last_runs(engine: sa.Engine, limit: int = 10) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(t.runs).order_by(t.runs.c.started_at.desc())
                            .limit(limit)).mappings().all()
    return [{**row, "failures": json.loads(row["failures"] or "[]")} for row in rows]
