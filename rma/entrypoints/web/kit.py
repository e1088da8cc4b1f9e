"""What every page of the portal is made with (SPEC §9): the templates (auto-escaped, an
undefined name an error), who is looking (``Visitor``), the dependencies that require a
signed-in user or a staff user, the CSRF check of a form, the pages' rate limits and their
answers other than success (``PageError``, answered as an error page by ``install``).

A session is an HttpOnly, SameSite=Lax cookie (Secure when RMA_PORTAL_URL is https). Every
form carries a CSRF token derived from the browser's secret (the session, or before signing
in a random cookie of its own): a form without it, or with another's, is refused (403) and
does nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from rma.entrypoints.web.errors import http_error_response
from rma.entrypoints.web.fragments import FragmentCache
from rma.errors import PageError
from rma.service.identity import User, csrf_token, csrf_valid, rate_limited, session_user
from rma.service.portal import account_name

SESSION_COOKIE = "rma_session"
#: the browser's secret before it signs in: what the sign-in forms' CSRF tokens come from
BROWSER_COOKIE = "rma_browser"
CSRF_FIELD = "csrf"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "csv": "text/csv; charset=utf-8"}
#: the paths of the API: their errors stay JSON (``rma.entrypoints.web.errors``)
API_PATHS = "/api/"

templates = Jinja2Templates(env=jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
    undefined=jinja2.StrictUndefined, extensions=[FragmentCache]))


def not_found() -> PageError:
    """The one 404 of the pages: no such page, another account's, or a staff page."""
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

    @property
    def account(self) -> str:
        """The signed-in user's account (only asked by pages behind ``signed_in``)."""
        assert self.user is not None
        return self.user.account_id


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


def staff_only(seen: Member) -> Visitor:
    """A staff user; anyone else signed in gets the 404 of a page that does not exist."""
    assert seen.user is not None
    if not seen.user.is_staff:
        raise not_found()
    return seen


Staff = Annotated[Visitor, Depends(staff_only)]


def _secure(request: Request) -> bool:
    return request.app.state.settings.portal.link_base.startswith("https://")


def set_cookie(request: Request, response: Response, name: str, value: str,
               max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax",
                        secure=_secure(request), path="/")


def render(request: Request, seen: Visitor, template: str, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    response = templates.TemplateResponse(request, template, {"seen": seen, **context},
                                          status_code=status_code)
    if seen.new_secret:
        set_cookie(request, response, BROWSER_COOKIE, seen.secret, None)
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
        raise too_many(wait)


def too_many(wait: int) -> PageError:
    return PageError(429, "Too many requests", f"Too many requests of this kind; try "
                     f"again in {wait} seconds.", {"retry-after": str(wait)})


Csrf = Annotated[str | None, Form(alias=CSRF_FIELD)]


async def form_fields(request: Request, seen: Visitor, max_fields: int = 1000
                      ) -> dict[str, str]:
    """A form's text fields, once its CSRF token is this browser's (403 otherwise); more
    than ``max_fields`` fields are a 400 (Starlette's default)."""
    form = await request.form(max_files=0, max_fields=max_fields)
    token = form.get(CSRF_FIELD)
    check_csrf(seen, token if isinstance(token, str) else None)
    return {key: value for key, value in form.items() if isinstance(value, str)}


def error_page(request: Request, exc: PageError) -> Response:
    if exc.status == 303:
        return RedirectResponse(exc.headers["location"], status_code=303)
    return templates.TemplateResponse(
        request, "error.html",
        {"seen": visitor(request), "title": exc.title, "message": exc.message},
        status_code=exc.status, headers=exc.headers)


def install_errors(app: FastAPI) -> None:
    """Errors of the pages as pages: a ``PageError``, and a path that is no page (404) the
    same page as ``not_found``; the API's paths keep their JSON errors."""

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> Response:
        return error_page(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and not request.url.path.startswith(API_PATHS) \
                and not request.url.path.startswith("/static/"):
            return error_page(request, not_found())
        return http_error_response(exc)
