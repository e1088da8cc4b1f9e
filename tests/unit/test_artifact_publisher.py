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


def test_an_artifact_that_cannot_be_created_is_logged_and_never_raised(caplog):
    def broken() -> None:
        raise ConnectionError("the API is gone")

    with caplog.at_level(logging.WARNING, logger="rma.artifacts"):
        artifacts.submit(broken, "batch B-1")
        artifacts.drain()
    assert "batch B-1 could not be created: ConnectionError: the API is gone" in caplog.text
