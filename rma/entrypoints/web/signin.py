"""Signing in and out of the portal (SPEC §9).

The sign-in page mails a one-time link to a registered address (the same answer for any
address, rate-limited per address and per client); ``GET /signin/<token>`` only shows a form
that POSTs it, so a mail scanner following the link does not use it up.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rma.entrypoints.web.kit import (
    BROWSER_COOKIE,
    SESSION_COOKIE,
    Csrf,
    Seen,
    check_csrf,
    render,
    set_cookie,
    within_rate,
)
from rma.errors import PageError
from rma.service.identity import send_signin_link, sign_in, sign_out

#: where a signed-in user starts
START = "/upload"

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(seen: Seen) -> RedirectResponse:
    return RedirectResponse(START if seen.user else "/signin", status_code=303)


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
    response = RedirectResponse(START, status_code=303)
    set_cookie(request, response, SESSION_COOKIE, signed.token,
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
