"""Prefect's settings for the runs this program starts (the CLI's and the portal's)."""

from __future__ import annotations

import os


def prefect_defaults() -> None:
    """Quiet, robust Prefect defaults for command-line runs (the user's settings win)."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # the console shows our one-line results; Prefect's tracebacks go to its API and UI
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # our own loggers (rma.security: code guessing) go to the flow run's logs as well
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "rma")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
