"""The partner portal's pages (SPEC §9), server-rendered with Jinja2 (auto-escaped), working
without JavaScript, under the one Content-Security-Policy (``security``): no inline script or
style, one stylesheet of ours.

Signing in: the sign-in page mails a one-time link to a registered address (the same answer
for any address, rate-limited per address and per client); ``GET /signin/<token>`` only shows
a form that POSTs it, so a mail scanner following the link does not use it up. A session is
an HttpOnly, SameSite=Lax cookie (Secure when RMA_PORTAL_URL is https). Every form carries a
CSRF token derived from the browser's secret (the session, or before signing in a random
cookie of its own): a form without it, or with another's, is refused (403) and does nothing.

The account a page acts for is the session's user's; another account's batch is the same 404
as one that does not exist. Uploads are checked (``check_upload``) and shown for review; the
review's "submit" posts the kept file as one flow run of ``ingest-upload``, as the API does.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from flows.upload import ingest_upload
from rma.domain.vocabulary.results import Batches
from rma.entrypoints.web.fragments import FragmentCache
from rma.service.identity import (
    User,
    csrf_token,
    csrf_valid,
    rate_limited,
    send_signin_link,
    session_user,
    sign_in,
    sign_out,
)
from rma.service.lookup import account_claims_page, batch_report
from rma.service.portal import (
    account_batches,
    account_name,
    batch_review,
    checked_upload,
)
from rma.service.uploads import check_upload, refused_upload

SESSION_COOKIE = "rma_session"
#: the browser's secret before it signs in: what the sign-in forms' CSRF tokens come from
BROWSER_COOKIE = "rma_browser"
CSRF_FIELD = "csrf"
UPLOAD = "/upload"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "csv": "text/csv; charset=utf-8"}

templates = Jinja2Templates(env=jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
    undefined=jinja2.StrictUndefined, extensions=[FragmentCache]))

router = APIRouter(include_in_schema=False)


class PageError(Exception):
    """An answer of the pages other than success: an error page with this status."""

    def __init__(self, status: int, title: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message
        self.headers = headers or {}


def not_found() -> PageError:
    return PageError(404, "Not found", "There is no such page of your account.")


@dataclass(frozen=True)
class Visitor:
    """Who is looking: the signed-in user (None before signing in) and the secret the
    page's forms are bound to."""

    user: User | None
    secret: str
    new_secret: bool
    account_name: str = ""

    @property
    def csrf(self) -> str:
        return csrf_token(self.secret)


def visitor(request: Request) -> Visitor:
    engine = request.app.state.engine
    session = request.cookies.get(SESSION_COOKIE, "")
    user = session_user(engine, session) if session else None
    if user is not None:
        return Visitor(user, session, False, account_name(engine, user.account_id))
    browser = request.cookies.get(BROWSER_COOKIE, "")
    return Visitor(None, browser or secrets.token_urlsafe(32), not browser)


Seen = Annotated[Visitor, Depends(visitor)]


def signed_in(seen: Seen) -> Visitor:
    if seen.user is None:
        raise PageError(303, "Sign in", "Sign in first.", {"location": "/signin"})
    return seen


Member = Annotated[Visitor, Depends(signed_in)]


def _secure(request: Request) -> bool:
    return request.app.state.settings.portal.link_base.startswith("https://")


def _set_cookie(request: Request, response: Response, name: str, value: str,
                max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax",
                        secure=_secure(request), path="/")


def render(request: Request, seen: Visitor, template: str, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    response = templates.TemplateResponse(request, template, {"seen": seen, **context},
                                          status_code=status_code)
    if seen.new_secret:
        _set_cookie(request, response, BROWSER_COOKIE, seen.secret, None)
    return response


def check_csrf(seen: Visitor, given: str | None) -> None:
    """403 for a form whose CSRF token is missing or not this browser's."""
    if seen.new_secret or not csrf_valid(seen.secret, given or ""):
        raise PageError(403, "Form refused", "This form is out of date or was not sent from "
                        "this portal. Go back, reload the page and send it again.")


def within_rate(request: Request, bucket: str, key: str) -> None:
    rates = {"uploads": request.app.state.settings.portal.upload_rate,
             "signin": request.app.state.settings.portal.signin_rate}
    wait = rate_limited(request.app.state.engine, bucket, key, rates[bucket])
    if wait is not None:
        raise PageError(429, "Too many requests", f"Too many requests of this kind; try "
                        f"again in {wait} seconds.", {"retry-after": str(wait)})


Csrf = Annotated[str | None, Form(alias=CSRF_FIELD)]


# ----------------------------------------------------------------------------- signing in


@router.get("/")
def home(seen: Seen) -> RedirectResponse:
    return RedirectResponse(UPLOAD if seen.user else "/signin", status_code=303)


@router.get("/signin")
def signin_page(request: Request, seen: Seen) -> HTMLResponse:
    return render(request, seen, "signin.html", sent=False)


@router.post("/signin")
def ask_for_link(request: Request, seen: Seen, csrf: Csrf = None,
                 email: Annotated[str, Form()] = "") -> HTMLResponse:
    check_csrf(seen, csrf)
    client = request.client.host if request.client else "unknown"
    within_rate(request, "signin", f"client:{client}")
    within_rate(request, "signin", email.strip().lower())
    send_signin_link(request.app.state.engine, request.app.state.settings, email)
    return render(request, seen, "signin.html", sent=True)


@router.get("/signin/{token}")
def confirm_page(request: Request, token: str, seen: Seen) -> HTMLResponse:
    return render(request, seen, "confirm.html", token=token)


@router.post("/signin/{token}")
def use_link(request: Request, token: str, seen: Seen, csrf: Csrf = None) -> Response:
    check_csrf(seen, csrf)
    state = request.app.state
    signed = sign_in(state.engine, state.settings, token)
    if signed is None:
        raise PageError(400, "Link not valid", "This sign-in link was used already, has "
                        "expired or is not valid. Ask for a new one on the sign-in page.")
    response = RedirectResponse(UPLOAD, status_code=303)
    _set_cookie(request, response, SESSION_COOKIE, signed.token,
                state.settings.portal.session_hours * 3600)
    response.delete_cookie(BROWSER_COOKIE, path="/")
    return response


@router.post("/signout")
def signout(request: Request, seen: Seen, csrf: Csrf = None) -> RedirectResponse:
    check_csrf(seen, csrf)
    if seen.user is not None:
        sign_out(request.app.state.engine, seen.secret)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ----------------------------------------------------------------------------- batches


@router.get(UPLOAD)
def upload_page(request: Request, seen: Member) -> HTMLResponse:
    limits = request.app.state.settings.limits
    return render(request, seen, "upload.html", max_mib=limits.file_bytes / 1024 / 1024,
                  error=None)


@router.post(UPLOAD)
def upload(request: Request, seen: Member, csrf: Csrf = None,
           file: Annotated[UploadFile | None, File()] = None) -> Response:
    check_csrf(seen, csrf)
    assert seen.user is not None
    account = seen.user.account_id
    within_rate(request, "uploads", account)
    state = request.app.state
    limit = state.settings.limits.file_bytes
    if file is None or not file.filename:
        return render(request, seen, "upload.html", status_code=400,
                      max_mib=limit / 1024 / 1024, error="Choose a file to upload.")
    data = file.file.read(limit + 1)  # one byte more than allowed: the reader says TOO_LARGE
    result = refused_upload(data, file.filename, account, state.settings) or \
        check_upload(data, file.filename, account, state.engine, state.settings)
    if result.status == "failed" or not result.batch_id:
        error = result.error or {}
        return render(request, seen, "upload.html", status_code=400, max_mib=limit / 1024 / 1024,
                      error=str(error.get("message") or "The file could not be read."))
    return RedirectResponse(f"/batches/{result.batch_id}", status_code=303)


@router.get("/batches/{batch_id}")
def review_page(request: Request, batch_id: str, seen: Member) -> HTMLResponse:
    assert seen.user is not None
    state = request.app.state
    review = batch_review(state.engine, state.settings, batch_id, seen.user.account_id)
    if review is None:
        raise not_found()
    return render(request, seen, "review.html", review=review, batch=review.document)


@router.post("/batches/{batch_id}/submit")
def submit(request: Request, batch_id: str, seen: Member, csrf: Csrf = None) -> Response:
    """Post the checked upload as one batch, through the flow the API's postings run."""
    check_csrf(seen, csrf)
    assert seen.user is not None
    account = seen.user.account_id
    state = request.app.state
    waiting = checked_upload(state.engine, batch_id, account)
    if waiting is None:
        raise not_found()
    within_rate(request, "uploads", account)
    kept, name = waiting
    [document] = Batches([ingest_upload(str(kept), name, account,
                                        state.settings.database_url)])
    if document["status"] == "posted" and document["batch_id"]:
        return RedirectResponse(f"/batches/{document['batch_id']}", status_code=303)
    return render(request, seen, "submitted.html", batch=document)


def _report(request: Request, batch_id: str, seen: Visitor, kind: str) -> FileResponse:
    assert seen.user is not None
    path = batch_report(request.app.state.engine, batch_id, seen.user.account_id, kind)
    if path is None:
        raise not_found()
    return FileResponse(path, media_type=MEDIA_TYPES[kind],
                        filename=f"{batch_id}.rejections.{kind}")


@router.get("/batches/{batch_id}/rejections.xlsx")
def report_xlsx(request: Request, batch_id: str, seen: Member) -> FileResponse:
    return _report(request, batch_id, seen, "xlsx")


@router.get("/batches/{batch_id}/rejections.csv")
def report_csv(request: Request, batch_id: str, seen: Member) -> FileResponse:
    return _report(request, batch_id, seen, "csv")


@router.get("/batches")
def batches_page(request: Request, seen: Member, page: int = 1) -> HTMLResponse:
    assert seen.user is not None
    listed = account_batches(request.app.state.engine, seen.user.account_id, page)
    return render(request, seen, "batches.html", batches=listed.items, page=listed)


@router.get("/claims")
def claims_page(request: Request, seen: Member, serial_number: str = "", claim_ref: str = "",
                status: str = "", page: int = 1) -> HTMLResponse:
    assert seen.user is not None
    claims = account_claims_page(request.app.state.engine, seen.user.account_id,
                                 serial_number or None, claim_ref or None, status or None, page)
    return render(request, seen, "claims.html", claims=claims.items, page=claims,
                  serial_number=serial_number, claim_ref=claim_ref, status=status)


def install(app: FastAPI) -> None:
    """The pages, and their errors as pages (the API keeps its JSON errors)."""
    app.include_router(router)

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> Response:
        if exc.status == 303:
            return RedirectResponse(exc.headers["location"], status_code=303)
        seen = visitor(request)
        response = templates.TemplateResponse(
            request, "error.html", {"seen": seen, "title": exc.title, "message": exc.message},
            status_code=exc.status, headers=exc.headers)
        return response
