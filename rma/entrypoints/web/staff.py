"""The staff pages (SPEC §9), for users of role ``staff`` only: a partner gets the 404 of a
page that does not exist. Issue an RMA code with the fields Customer Service registered
(``rma codes issue``), lift an account's code lock-out (``rma codes unlock``), and see the
runs, the waiting and the quarantined files of the inbox (``rma status``): the service
functions of those commands, never code of their own.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from rma.domain.vocabulary.columns import CS_FIELDS
from rma.entrypoints.web.claimform import CS_LABELS
from rma.entrypoints.web.kit import Staff, Visitor, form_fields, render
from rma.errors import RmaError
from rma.service.codes import issue_code, locked_out, unlock
from rma.service.status import gather

STAFF = "/staff"
CODES = STAFF + "/codes"
LOCKOUTS = STAFF + "/lockouts"
#: how many runs the status page lists (the newest)
RUNS_SHOWN = 20

router = APIRouter(include_in_schema=False)


@router.get(STAFF)
def status_page(request: Request, seen: Staff) -> HTMLResponse:
    """The runs, what waits in the inbox (and has not settled), what sits in quarantine."""
    settings = request.app.state.settings
    status = gather(request.app.state.engine, settings.inbox,
                    settings.beside_inbox("quarantine"), RUNS_SHOWN, settings.settle_seconds,
                    settings.beside_inbox("outbox"))
    return render(request, seen, "staff_status.html", status=status, inbox=settings.inbox)


def _codes_page(request: Request, seen: Visitor, values: dict[str, str], status_code: int = 200,
                error: str = "", issued: str = "") -> HTMLResponse:
    fields = [(name, CS_LABELS.get(name, name), values.get(name, "")) for name in CS_FIELDS]
    return render(request, seen, "staff_codes.html", status_code=status_code, values=values,
                  fields=fields, error=error, issued=issued,
                  validity=request.app.state.settings.code_validity_days)


@router.get(CODES)
def codes_page(request: Request, seen: Staff) -> HTMLResponse:
    return _codes_page(request, seen, {})


def _issue(request: Request, seen: Visitor, form: dict[str, str]) -> HTMLResponse:
    state = request.app.state
    account = form.get("account_id", "").strip()
    days = form.get("valid_days", "").strip()
    if days and not days.isdigit():
        return _codes_page(request, seen, form, 400, "Valid for: a whole number of days.")
    serials = [s.strip() for s in form.get("serial_numbers", "").splitlines() if s.strip()]
    fields = {name: form.get(name, "").strip() for name in CS_FIELDS}
    try:
        code = issue_code(state.engine, state.settings, account, serials, fields,
                          int(days) if days else None)
    except RmaError as exc:
        return _codes_page(request, seen, form, 400, str(exc))
    return _codes_page(request, seen, {}, issued=code)


@router.post(CODES)
async def issue(request: Request, seen: Staff) -> HTMLResponse:
    """Issue a code (a new one, shown once here) for the account with the fields given."""
    form = await form_fields(request, seen)
    return await run_in_threadpool(_issue, request, seen, form)


def _lockouts_page(request: Request, seen: Visitor, status_code: int = 200, account: str = "",
                   error: str = "", unlocked: str = "") -> HTMLResponse:
    return render(request, seen, "staff_lockouts.html", status_code=status_code,
                  locked=locked_out(request.app.state.engine), account=account, error=error,
                  unlocked=unlocked)


@router.get(LOCKOUTS)
def lockouts_page(request: Request, seen: Staff) -> HTMLResponse:
    """The accounts locked out of codes, each with its button, and a form for any account."""
    return _lockouts_page(request, seen)


def _unlock(request: Request, seen: Visitor, account: str) -> HTMLResponse:
    try:
        unlock(request.app.state.engine, account)
    except RmaError as exc:
        return _lockouts_page(request, seen, 400, account, str(exc))
    return _lockouts_page(request, seen, unlocked=account)


@router.post(LOCKOUTS)
async def lift_lockout(request: Request, seen: Staff) -> HTMLResponse:
    """Lift the account's code lock-out (its earlier CODE_INVALID attempts no longer count)."""
    form = await form_fields(request, seen)
    return await run_in_threadpool(_unlock, request, seen, form.get("account_id", "").strip())
