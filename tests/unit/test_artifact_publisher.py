"""flows.artifacts: batch artifacts are created in the background, in the caller's context,
never fail the batch, and are all created once ``drain`` returns."""

from __future__ import annotations

import contextvars
import logging
import threading
import time

from flows import artifacts

who = contextvars.ContextVar("who", default="nobody")


def test_drain_waits_for_every_submitted_artifact_and_runs_it_in_the_callers_context():
    seen: list[tuple[str, str]] = []
    release = threading.Event()

    def create(n: int) -> None:
        release.wait(5)
        time.sleep(0.01)
        seen.append((who.get(), f"artifact {n}"))

    token = who.set("task run 7")
    try:
        for n in range(5):
            artifacts.submit(lambda n=n: create(n), f"batch {n}")
    finally:
        who.reset(token)
    assert seen == []  # nothing waited for the slow round trips
    release.set()
    artifacts.drain()
    assert sorted(seen) == [("task run 7", f"artifact {n}") for n in range(5)]


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_an_artifact_that_cannot_be_created_is_logged_and_never_raised():
    def broken() -> None:
        raise ConnectionError("the API is gone")

    # a handler on the logger itself, not caplog's on the root: whether a record reaches the
    # root depends on the logging setup Prefect made in this process before (test order)
    lines = _Lines()
    logger = logging.getLogger("rma.artifacts")
    logger.addHandler(lines)
    try:
        artifacts.submit(broken, "batch B-1")
        artifacts.drain()
    finally:
        logger.removeHandler(lines)
    assert "the Prefect artifact of batch B-1 could not be created: ConnectionError: the API " \
           "is gone" in lines.lines
