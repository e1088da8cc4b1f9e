"""The HTTP API of SPEC §9 under /api/v1: JSON, ``Authorization: Bearer <token>``. The token's
account is every batch's origin (SPEC §3) and the only account whose batches, reports, claims
and codes can be seen: another account's are the same 404 as ones that do not exist.

Every posting is one Prefect flow run (``flows/upload.py``), waited for; a check is decided
in this process (it posts nothing) and answered at once. A batch and one claim take the
service's one way in (``rma.service.filing``), as the portal's pages do.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from rma.entrypoints.web.auth import api_account, within_rate
from rma.entrypoints.web.errors import not_found
from rma.entrypoints.web.flowrun import flow_poster
from rma.entrypoints.web.models import BatchObject, ClaimIn, ClaimList, CodeInfo, ErrorBody
from rma.errors import ApiError, BadClaim
from rma.service.code_lookup import RATE_LIMITED, look_up_code_within_rate
from rma.service.filing import file_claim, send_upload
from rma.service.lookup import account_claims, batch_document, batch_report

PREFIX = "/api/v1"
BATCHES = PREFIX + "/batches"
CLAIMS = PREFIX + "/claims"

#: a batch that could not be processed, by its error code: what the answer's status is
BATCH_ERROR_STATUS = {"TOO_LARGE": 413, "UNSUPPORTED_FORMAT": 415}
MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "csv": "text/csv; charset=utf-8"}

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": words} for status, words in (
        (400, "the request is not valid, or the file could not be read (NO_HEADER, "
              "UNREADABLE_FILE, EMPTY_BATCH, …)"),
        (401, "no token, or not a valid one"),
        (404, "no such thing of the caller's account"),
        (413, "over a limit (RMA_MAX_FILE_BYTES, rows, columns, cells …)"),
        (415, "not a format the pipeline takes (.xlsx, .xlsm, .csv; a claim as JSON)"),
        (429, "too many requests (Retry-After says when to try again), or the account is "
              "locked out of RMA codes (CODE_LOCKED)"))}

router = APIRouter(prefix=PREFIX, responses=ERRORS, tags=["claims intake"])

#: the account of the request's token
Account = Annotated[str, Depends(api_account)]
#: ?check=true: decide and report only
Check = Annotated[bool, Query(description="decide and report only, post nothing")]


def _multipart(request: Request) -> None:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE",
                       "Send the file as multipart/form-data, in the field `file`.")


def _json(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Send the claim as application/json.")


def _answer(request: Request, document: dict[str, Any], account: str, created: int
            ) -> JSONResponse:
    """The batch object, or the error of a batch that could not be processed. A duplicate
    names the batch it duplicates only when that batch is the caller's own."""
    if document["status"] == "failed":
        error = document["error"] or {}
        code = str(error.get("code", "BAD_REQUEST"))
        raise ApiError(BATCH_ERROR_STATUS.get(code, 400), code, str(error.get("message", "")))
    if document["status"] == "duplicate":
        first = document["batch_id"]
        if first and batch_document(request.app.state.engine, first, account) is None:
            document = {**document, "batch_id": None,
                        "error": {"code": "DUPLICATE_BATCH", "message": "This content was "
                                  "already processed; nothing was posted again."}}
        return JSONResponse(document, status_code=200)
    return JSONResponse(document, status_code=200 if document["status"] == "checked" else created)


@router.post("/batches", status_code=201, response_model=BatchObject,
             responses={200: {"model": BatchObject, "description": "a check, or a duplicate"}},
             dependencies=[Depends(_multipart)],
             summary="Send a batch file (.xlsx, .xlsm, .csv); ?check=true posts nothing")
def post_batch(request: Request,
               file: Annotated[UploadFile, File(description="the claims file")],
               account: Account, check: Check = False) -> JSONResponse:
    within_rate(request, "uploads", account)
    limit = request.app.state.settings.limits.file_bytes
    data = file.file.read(limit + 1)  # one byte more than allowed: the reader says TOO_LARGE
    state = request.app.state
    document = send_upload(data, file.filename or "", account, state.engine, state.settings,
                           flow_poster(state.settings), check)
    return _answer(request, document, account, 201)


@router.get("/batches/{batch_id}", response_model=BatchObject, summary="One batch")
def get_batch(request: Request, batch_id: str,
              account: Account) -> JSONResponse:
    document = batch_document(request.app.state.engine, batch_id, account)
    if document is None:
        raise not_found()
    return JSONResponse(document)


def _report(request: Request, batch_id: str, account: str, kind: str) -> FileResponse:
    path = batch_report(request.app.state.engine, batch_id, account, kind)
    if path is None:
        raise not_found()
    return FileResponse(path, media_type=MEDIA_TYPES[kind],
                        filename=f"{batch_id}.rejections.{kind}")


@router.get("/batches/{batch_id}/rejections.xlsx", response_class=FileResponse,
            summary="The batch's rejections.xlsx (bad cells red, a summary sheet)")
def get_report_xlsx(request: Request, batch_id: str,
                    account: Account) -> FileResponse:
    return _report(request, batch_id, account, "xlsx")


@router.get("/batches/{batch_id}/rejections.csv", response_class=FileResponse,
            summary="The batch's rejections.csv (one line per issue)")
def get_report_csv(request: Request, batch_id: str,
                   account: Account) -> FileResponse:
    return _report(request, batch_id, account, "csv")


@router.get("/claims", response_model=ClaimList, summary="The account's claims")
def get_claims(request: Request, account: Account, serial_number: str | None = None,
               claim_ref: str | None = None, status: str | None = None) -> JSONResponse:
    claims = account_claims(request.app.state.engine, account, serial_number, claim_ref, status)
    return JSONResponse({"claims": claims})


@router.post("/claims", status_code=201, response_model=BatchObject,
             responses={200: {"model": BatchObject, "description": "a check, or a duplicate"}},
             dependencies=[Depends(_json)],
             summary="File one claim (a batch of one); ?check=true posts nothing")
def post_claim(request: Request, claim: ClaimIn,
               account: Account, check: Check = False) -> JSONResponse:
    within_rate(request, "uploads", account)
    state = request.app.state
    try:
        document = file_claim(claim.model_dump(exclude_unset=True), account, state.engine,
                              state.settings, flow_poster(state.settings), check)
    except BadClaim as exc:
        raise ApiError(400, exc.code, str(exc)) from None
    return _answer(request, document, account, 201)


@router.get("/codes/{code}", response_model=CodeInfo,
            summary="An RMA code of the account: what Customer Service registered")
def get_code(request: Request, code: str, account: Account) -> JSONResponse:
    state = request.app.state
    found = look_up_code_within_rate(state.engine, state.settings, account, code)
    if found.outcome == RATE_LIMITED:
        raise ApiError(429, RATE_LIMITED, found.message,
                       {"retry-after": str(found.retry_after)})
    if found.outcome == "CODE_LOCKED":
        raise ApiError(429, "CODE_LOCKED", found.message)
    if found.code is None:  # unknown, or another account's: one answer, counted as a try
        raise not_found()
    return JSONResponse(found.code)
