"""Every error of the API is ``{"error": {"code": "...", "message": "..."}}`` (SPEC §9), with
400, 401, 404, 413, 415 or 429; never a traceback, never a framework's own shape."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rma.errors import ApiError, DatabaseNotReady, DatabaseUnavailable

log = logging.getLogger("rma.web")

#: the code of an error answered by status alone (routing, methods, limits)
STATUS_CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 404: "NOT_FOUND",
                405: "METHOD_NOT_ALLOWED", 413: "TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE",
                429: "RATE_LIMITED", 500: "INTERNAL_ERROR", 503: "UNAVAILABLE"}
NOT_FOUND = "Not found."


def not_found() -> ApiError:
    """The one 404: no such thing, or another account's (never told apart)."""
    return ApiError(404, "NOT_FOUND", NOT_FOUND)


def error_response(status: int, code: str, message: str,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status,
                        headers=dict(headers or {}))


def install(app: FastAPI) -> None:
    """Answer every error in the one shape."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        message = NOT_FOUND if status == 404 else str(exc.detail)
        return error_response(status, STATUS_CODES.get(status, "ERROR"), message,
                              getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, "BAD_REQUEST", validation_message(exc))

    @app.exception_handler(DatabaseUnavailable)
    @app.exception_handler(DatabaseNotReady)
    async def database(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s: %s", type(exc).__name__, exc)
        return error_response(503, "UNAVAILABLE", "The claims database is not available; "
                              "try again later.")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return error_response(500, "INTERNAL_ERROR", "The request could not be processed; "
                              "nothing of it was posted. Operations have the details.")


def validation_message(exc: RequestValidationError) -> str:
    """The request's first problems in one line: where, and what is wrong."""
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where
                     else str(error.get("msg", "invalid")))
    return "; ".join(parts) or "the request is not valid"
