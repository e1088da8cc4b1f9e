"""The application of ``rma web``: the API (and, beside it, the portal's pages) on the
claims database of the settings. ``create_app`` is uvicorn's factory; tests pass their own
settings and engine."""

from __future__ import annotations

import logging.config

import sqlalchemy as sa
import uvicorn.config
from fastapi import FastAPI

from rma.adapters.db.engine import make_engine
from rma.config import Settings, load_settings
from rma.entrypoints.web import api, docs, errors, pages
from rma.entrypoints.web.security import BodyLimit, SecurityHeaders, body_limits

TITLE = "RMA claim intake"
DESCRIPTION = """The HTTP API of the RMA claim intake (SPEC §9): send claim batches and single
claims, read their outcome and rejection reports, list your claims and look up your RMA codes.

Authenticate with `Authorization: Bearer <token>`; operations make a token for your account
with `rma tokens create --account ID --name NAME`. Every rule of a drop-folder or e-mailed batch
holds unchanged: the token's account is the submitting account, whatever a file says.
Errors are `{"error": {"code": "...", "message": "..."}}`."""


def create_app(settings: Settings | None = None, engine: sa.Engine | None = None) -> FastAPI:
    """The application; without arguments, on the settings of the environment."""
    settings = settings or load_settings()
    engine = engine or make_engine(settings.database_url, settings.db_pool)
    app = FastAPI(title=TITLE, description=DESCRIPTION, version="1",
                  openapi_url=docs.OPENAPI, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.engine = engine
    errors.install(app)
    app.include_router(api.router)
    pages.install(app)
    docs.install(app)
    app.add_middleware(BodyLimit, limit_for=body_limits(
        settings.limits.file_bytes, settings.max_body_bytes, (api.BATCHES, *pages.UPLOAD_PATHS),
        (api.CLAIMS,)))
    app.add_middleware(SecurityHeaders)  # outermost: every answer has the headers, a 413 too
    _keep_uvicorn_logs()
    return app


def _keep_uvicorn_logs() -> None:
    """Prefect's logging setup (done when the flows are imported) takes the ``uvicorn``
    loggers for its own server and quietens them: give them back to uvicorn, whose lines are
    the access and error log of ``rma web``."""
    logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)
