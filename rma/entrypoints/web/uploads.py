"""Uploading a batch and its review page (SPEC §9): an upload is checked
(``check_upload``: decided in full, nothing posted) and shown for review, every bad cell
marked with its message; the review's "submit" posts the kept file as one flow run of
``ingest-upload``, as the API does. Another account's batch is the same 404 as one that
does not exist. (Correcting rows in place: ``corrections``.)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from rma.entrypoints.web.flowrun import flow_poster
from rma.entrypoints.web.kit import (
    MEDIA_TYPES,
    Csrf,
    Member,
    Visitor,
    check_csrf,
    not_found,
    render,
    within_rate,
)
from rma.service.lookup import batch_report
from rma.service.portal import batch_review, checked_upload
from rma.service.uploads import check_upload, refused_upload

UPLOAD = "/upload"

router = APIRouter(include_in_schema=False)


@router.get(UPLOAD)
def upload_page(request: Request, seen: Member) -> HTMLResponse:
    limits = request.app.state.settings.limits
    return render(request, seen, "upload.html", max_mib=limits.file_bytes / 1024 / 1024,
                  error=None)


@router.post(UPLOAD)
def upload(request: Request, seen: Member, csrf: Csrf = None,
           file: Annotated[UploadFile | None, File()] = None) -> Response:
    check_csrf(seen, csrf)
    account = seen.account
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
    state = request.app.state
    review = batch_review(state.engine, state.settings, batch_id, seen.account)
    if review is None:
        raise not_found()
    return render(request, seen, "review.html", review=review, batch=review.document)


@router.post("/batches/{batch_id}/submit")
def submit(request: Request, batch_id: str, seen: Member, csrf: Csrf = None) -> Response:
    """Post the checked upload as one batch, through the flow the API's postings run."""
    check_csrf(seen, csrf)
    account = seen.account
    state = request.app.state
    waiting = checked_upload(state.engine, batch_id, account)
    if waiting is None:
        raise not_found()
    within_rate(request, "uploads", account)
    kept, name = waiting
    document = flow_poster(state.settings)(kept, name, account)
    if document["status"] == "posted" and document["batch_id"]:
        return RedirectResponse(f"/batches/{document['batch_id']}", status_code=303)
    return render(request, seen, "submitted.html", batch=document)


def _report(request: Request, batch_id: str, seen: Visitor, kind: str) -> FileResponse:
    path = batch_report(request.app.state.engine, batch_id, seen.account, kind)
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
