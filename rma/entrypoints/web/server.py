"""``rma web``: uvicorn serving ``create_app``, in one or more worker processes (each makes
its own application and connection pool; what they share lives in the claims database)."""

from __future__ import annotations

import uvicorn

from rma.entrypoints.prefect_env import prefect_defaults

APP = "rma.entrypoints.web.app:create_app"


def serve(host: str, port: int, workers: int = 1) -> None:
    """Serve until stopped (Ctrl-C, SIGTERM)."""
    prefect_defaults()  # the postings' flow runs, as the CLI's
    uvicorn.run(APP, factory=True, host=host, port=port, workers=workers,
                server_header=False, proxy_headers=True, log_level="info")
