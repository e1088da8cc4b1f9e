"""Filing one claim by hand (SPEC §9, the SolaX SOP): a batch of one, through the service
function the API's ``POST /api/v1/claims`` takes (``file_claim``), posted as one flow run.

A distributor, or an installer at or above the threshold, fills in the claim's columns and
several SNs (``GET/POST /claims/new``). An installer below the threshold first enters the
RMA code (``POST /claims/new/code``: the look-up of ``GET /api/v1/codes/{code}``, its rate,
lock-out and count applying; an unknown code and another account's are one answer), then
sees what Customer Service registered, read-only, adds the rest and submits. A claim the
pipeline rejects comes back as the form, its values kept, every bad field marked and
explained; the account a claim is filed for is the signed-in one, whatever the form says.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from rma.domain.vocabulary.reasons import Reason
from rma.entrypoints.web.claimform import claim_form, claim_of
from rma.entrypoints.web.flowrun import flow_poster
from rma.entrypoints.web.kit import (
    Member,
    Visitor,
    form_fields,
    render,
    too_many,
    within_rate,
)
from rma.service.code_lookup import RATE_LIMITED, CodeLookup, look_up_code, look_up_code_within_rate
from rma.service.filing import file_claim, needs_code
from rma.service.lookup import batch_document

NEW = "/claims/new"
CODE_STEP = NEW + "/code"
ENTER_CODE = "Enter the RMA code Customer Service gave you first."
SENT_ALREADY = "This claim was sent already; nothing was filed again."
#: a claim refused for these is sent back to step 1: its code cannot be used as it is
UNUSABLE = {Reason.CODE_INVALID, Reason.CODE_EXPIRED, Reason.CODE_REVOKED, Reason.CODE_USED,
            Reason.CODE_LOCKED}

router = APIRouter(include_in_schema=False)


def _code_step(request: Request, seen: Visitor, status_code: int = 200, code: str = "",
               error: str = "") -> HTMLResponse:
    """Step 1 of an installer below the threshold: the RMA code."""
    return render(request, seen, "claim_code.html", status_code=status_code, code=code,
                  error=error)


def _claim_page(request: Request, seen: Visitor, values: dict[str, str],
                code: dict[str, Any] | None = None, batch: dict[str, Any] | None = None,
                status_code: int = 200) -> HTMLResponse:
    return render(request, seen, "claim_new.html", status_code=status_code,
                  form=claim_form(values, code, batch))


@router.get(NEW)
def new_claim(request: Request, seen: Member) -> HTMLResponse:
    state = request.app.state
    if needs_code(state.engine, state.settings, seen.account):
        return _code_step(request, seen)
    return _claim_page(request, seen, {})


def _looked_up(request: Request, seen: Visitor, given: str) -> HTMLResponse:
    """Step 1 answered: the claim form with the code's prefill, or the step again with why
    not (a code that is no code of the account: one answer, whichever it is)."""
    state = request.app.state
    found = look_up_code_within_rate(state.engine, state.settings, seen.account, given)
    if found.outcome == RATE_LIMITED:
        raise too_many(found.retry_after or 1)
    refused = _refusal(found)
    if refused is not None:
        status, message = refused
        return _code_step(request, seen, status, given, message)
    assert found.code is not None
    covered = found.code.get("serial_numbers") or []
    return _claim_page(request, seen, {"serial_numbers": "\n".join(covered)}, found.code)


def _refusal(found: CodeLookup) -> tuple[int, str] | None:
    """The status and words of a look-up that does not lead to the claim form."""
    if found.outcome == Reason.CODE_LOCKED:
        return 429, found.message
    if found.code is None or not found.code["usable"]:
        return 400, found.message
    return None


@router.post(CODE_STEP)
async def look_up(request: Request, seen: Member) -> HTMLResponse:
    form = await form_fields(request, seen)
    given = form.get("rma_code", "").strip()
    if not given:
        return _code_step(request, seen, 400, error=ENTER_CODE)
    return await run_in_threadpool(_looked_up, request, seen, given)


def _filed(request: Request, seen: Visitor, form: dict[str, str]) -> HTMLResponse:
    """File the form's claim; the batch, or the form again with what is wrong."""
    state = request.app.state
    account = seen.account
    coded = needs_code(state.engine, state.settings, account)
    code = form.get("code", "").strip() if coded else ""
    if coded and not code:
        return _code_step(request, seen, 400, error=ENTER_CODE)
    within_rate(request, "uploads", account)
    batch = file_claim(claim_of(form, code), account, state.engine, state.settings,
                       flow_poster(state.settings))
    if batch["status"] == "duplicate":  # the same claim sent again: the first one's batch
        first = batch["batch_id"] and batch_document(state.engine, batch["batch_id"], account)
        batch = first or {**batch, "batch_id": None,
                          "error": {"code": "DUPLICATE_BATCH", "message": SENT_ALREADY}}
    if batch["claims_accepted"] and batch["batch_id"]:
        return render(request, seen, "claim_filed.html", batch=batch)
    if not coded:
        return _claim_page(request, seen, form, None, batch, 400)
    return _coded_again(request, seen, form, code, batch)


def _coded_again(request: Request, seen: Visitor, form: dict[str, str], code: str,
                 batch: dict[str, Any]) -> HTMLResponse:
    """Step 2 again after a rejection: with the code's prefill while the code is still
    usable (a valid code's look-up counts nothing), else step 1 with why not. A code the
    claim was refused for (``UNUSABLE``) is not looked up again: its attempt counts once."""
    code_errors = [r for r in batch.get("rejections", []) if r["code"] in UNUSABLE]
    if code_errors:
        status = 429 if code_errors[0]["code"] == Reason.CODE_LOCKED else 400
        return _code_step(request, seen, status, code, str(code_errors[0]["message"]))
    state = request.app.state
    found = look_up_code(state.engine, state.settings, seen.account, code)
    refused = _refusal(found)
    if refused is not None:
        return _code_step(request, seen, refused[0], code, refused[1])
    return _claim_page(request, seen, form, found.code, batch, 400)


@router.post(NEW)
async def file_one(request: Request, seen: Member) -> HTMLResponse:
    form = await form_fields(request, seen)
    return await run_in_threadpool(_filed, request, seen, form)
