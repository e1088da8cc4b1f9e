"""What every response carries, and how much a request may send (SPEC §9).

Headers: a Content-Security-Policy without inline script (nor inline style, framing or
plug-ins), ``nosniff``, no framing, no referrer (a sign-in link's secret must not leak in a
Referer), and ``no-store`` unless a response says otherwise: pages and API answers are one
account's data.

Body limits: a request larger than its path's limit (an upload: RMA_MAX_FILE_BYTES and the
room multipart needs; a claim: RMA_MAX_BODY_BYTES; anything else: ``OTHER_BODY_BYTES``) is a
413 before it is read when it says its length, and as soon as it passes the limit while it
streams in when it does not (or lies).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rma.entrypoints.web.errors import error_response

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'none'")
HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}
#: multipart's boundaries and part headers around an uploaded file
MULTIPART_ROOM = 64 * 1024
#: any request without a limit of its own (a form of the pages, a GET)
OTHER_BODY_BYTES = 1024 * 1024


class SecurityHeaders:
    """Adds ``HEADERS`` (and ``cache-control: no-store`` when unset) to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k.encode(), v.encode()) for k, v in HEADERS.items()
                            if k.encode() not in present]
                if b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyLimit:
    """413 for a request body over ``limit_for(path)`` bytes (module docstring)."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            response = error_response(413, "TOO_LARGE", _too_large(limit),
                                      {"connection": "close"})
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # raised inside the framework's body parsing: answered by the 413 handler
                    raise HTTPException(413, _too_large(limit))
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _too_large(limit: int) -> str:
    return f"The request is larger than the {_size(limit)} this address takes."


def _size(n: int) -> str:
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.0f} {unit}"
    return f"{n} bytes"


def body_limits(upload_bytes: int, claim_bytes: int, upload_paths: tuple[str, ...],
                claim_paths: tuple[str, ...]) -> Callable[[str], int]:
    """The limit of a request path: uploads, claims, anything else."""
    def limit_for(path: str) -> int:
        if path in upload_paths:
            return upload_bytes + MULTIPART_ROOM
        if path in claim_paths:
            return claim_bytes
        return OTHER_BODY_BYTES
    return limit_for
