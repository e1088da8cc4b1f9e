"""The partner portal's pages (SPEC §9), server-rendered with Jinja2 (auto-escaped), working
without JavaScript, under the one Content-Security-Policy (``security``): no inline script or
style, one stylesheet of ours. The account a page acts for is the session's user's, never
what a form sends.

The pages by concern, each a router: ``signin`` (one-time links, sessions), ``uploads``
(upload, review, submit, reports), ``corrections`` (rows corrected in place), ``filing``
(one claim by hand, with an RMA code for installers below the threshold), ``lists`` (the
account's claims and batches), ``staff`` (codes, lock-outs, runs and the inbox: staff only).
``kit`` is what they are made with.
"""

from __future__ import annotations

from fastapi import FastAPI

from rma.entrypoints.web import corrections, filing, lists, signin, staff, uploads
from rma.entrypoints.web.kit import SESSION_COOKIE, install_errors
from rma.entrypoints.web.uploads import UPLOAD

__all__ = ["UPLOAD_PATHS", "SESSION_COOKIE", "UPLOAD", "install"]

#: the pages whose forms send a file (the upload limit applies, not a form's)
UPLOAD_PATHS = (UPLOAD,)


def install(app: FastAPI) -> None:
    """The pages, and their errors as pages (the API keeps its JSON errors: install after
    ``rma.entrypoints.web.errors``, whose handler of a path that is no page this replaces)."""
    for module in (signin, uploads, corrections, filing, lists, staff):
        app.include_router(module.router)
    install_errors(app)
