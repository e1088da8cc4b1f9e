"""The review page's corrections (SPEC §9): a checked upload's rejected rows corrected in
place, re-checked without sending the file again, and submitted as a new batch linked to the
one they correct (``rma.service.corrections``).

Both are one form on the review page (its cells named by ``cell_field``) with two buttons:
``re-check`` answers the review page again with each corrected row's new verdict and posts
nothing; ``submit`` posts the corrected rows as one flow run of ``ingest-upload``, as the
review's own submit does, and shows the new batch. Another account's batch is the same 404 as
one that does not exist; a form without its CSRF token is refused and does nothing.
"""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from rma.entrypoints.web.flowrun import flow_poster
from rma.entrypoints.web.kit import (
    Member,
    Visitor,
    form_fields,
    not_found,
    render,
    within_rate,
)
from rma.service.corrections import (
    NOTHING_CORRECTED,
    Corrected,
    corrections,
    keep_corrected,
    recheck,
)
from rma.service.portal import EDITABLE_ROWS, Review

router = APIRouter(include_in_schema=False)


def _fields_of_review(request: Request) -> int:
    """A field per cell of every editable row: Starlette's default of 1,000 fields refused
    the form of 200 rows of 22 columns (400 before reading a cell); the body's size stays
    bounded by ``BodyLimit``."""
    return EDITABLE_ROWS * request.app.state.settings.limits.columns + 10


def _corrected(request: Request, batch_id: str, seen: Visitor, form: dict[str, str]
               ) -> tuple[Review, Corrected | None]:
    state = request.app.state
    found = corrections(state.engine, state.settings, batch_id, seen.account, form)
    if found is None:
        raise not_found()
    return found


def _page(request: Request, seen: Visitor, review: Review, status_code: int = 200
          ) -> HTMLResponse:
    return render(request, seen, "review.html", status_code=status_code, review=review,
                  batch=review.document)


def _recheck(request: Request, batch_id: str, seen: Visitor, form: dict[str, str]
             ) -> HTMLResponse:
    review, corrected = _corrected(request, batch_id, seen, form)
    if corrected is None:
        return _page(request, seen, _nothing(review), 400)
    state = request.app.state
    return _page(request, seen, recheck(corrected, state.engine, state.settings))


def _nothing(review: Review) -> Review:
    return replace(review, correction_messages=[NOTHING_CORRECTED])


def _submit(request: Request, batch_id: str, seen: Visitor, form: dict[str, str]) -> Response:
    account = seen.account
    review, corrected = _corrected(request, batch_id, seen, form)
    if corrected is None:
        return _page(request, seen, _nothing(review), 400)
    within_rate(request, "uploads", account)
    state = request.app.state
    kept = keep_corrected(corrected, account, state.settings)
    document = flow_poster(state.settings, corrects_batch_id=batch_id)(kept, corrected.name,
                                                                       account)
    if document["status"] == "posted" and document["batch_id"]:
        return RedirectResponse(f"/batches/{document['batch_id']}", status_code=303)
    return render(request, seen, "submitted.html", batch=document)


@router.post("/batches/{batch_id}/recheck")
async def recheck_page(request: Request, batch_id: str, seen: Member) -> Response:
    """The review page again, each corrected row with its new verdict; nothing posted."""
    form = await form_fields(request, seen, max_fields=_fields_of_review(request))
    return await run_in_threadpool(_recheck, request, batch_id, seen, form)


@router.post("/batches/{batch_id}/corrections")
async def submit_corrections(request: Request, batch_id: str, seen: Member) -> Response:
    """Post the corrected rows as a new batch that corrects this one."""
    form = await form_fields(request, seen, max_fields=_fields_of_review(request))
    return await run_in_threadpool(_submit, request, batch_id, seen, form)
