"""The shapes of the API for its OpenAPI documentation (/api/docs) and for the one body it
parses, a claim. Answers are sent exactly as the CLI's ``--json`` makes them (SPEC §7); these
models describe them, they do not reshape them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from rma.domain.vocabulary.columns import CANONICAL, CS_FIELDS, LABELS


class ErrorDetail(BaseModel):
    code: str = Field(examples=["NOT_FOUND"])
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class Rejection(BaseModel):
    sheet: str | None = None
    row: int | None = Field(None, description="the row number the submitter sees in the file")
    claim_ref: str | None = None
    serial_number: str | None = None
    column: str | None = None
    code: str = Field(examples=["CODE_INVALID"])
    message: str


class Warning(BaseModel):  # noqa: A001 - the name of the batch object's field
    row: int | None = None
    code: str = Field(examples=["PREFILL_CONFLICT"])
    column: str | None = None
    message: str


class BatchObject(BaseModel):
    """One batch, as `rma ingest --json` prints it (SPEC §7)."""

    batch_id: str | None
    source: str
    account_id: str | None
    status: str = Field(description="posted, checked (nothing posted), duplicate or failed")
    claims_accepted: int
    claims_rejected: int
    claim_ids: list[str]
    rejections: list[Rejection]
    warnings: list[Warning]
    reports: dict[str, str] = Field(description="where the reports were written; download "
                                    "them from …/rejections.xlsx and …/rejections.csv")
    error: ErrorDetail | None
    corrects_batch_id: str | None = Field(
        None, description="the batch whose rows this one corrects (rows corrected in the "
        "portal and submitted as a new batch), else null")
    corrected_by: list[str] = Field(
        default_factory=list, description="the batches that correct this one (given when a "
        "batch is read back, `GET /api/v1/batches/{batch_id}`)")


class ClaimList(BaseModel):
    claims: list[dict[str, Any]] = Field(description="as `rma claims list --json`: claim_id, "
                                         "account_id, claim_ref, status, batch_id, "
                                         "submitted_at, rma_code, serial_numbers, and every "
                                         "other column of the claim as resolved")


class CodeInfo(BaseModel):
    """An RMA code of the caller's account, as Customer Service registered it."""

    code: str
    account_id: str
    usable: bool = Field(description="whether a claim may give it now")
    reason: ErrorDetail | None = Field(description="why not (CODE_EXPIRED, CODE_REVOKED, "
                                       "CODE_USED)")
    expires_at: str | None
    serial_numbers: list[str] = Field(description="the SNs it covers; empty: any of the account")
    prefill: dict[str, str] = Field(description="the fields it fills into a claim: " +
                                    ", ".join(CS_FIELDS))


#: a claim's columns (SPEC §3) as optional text; the SNs as a list
_CLAIM_FIELDS: dict[str, Any] = {
    column: (str | None, Field(None, description=LABELS.get(column, column)))
    for column in CANONICAL if column != "serial_number"}
ClaimIn = create_model(
    "ClaimIn", __config__=ConfigDict(extra="allow"),
    serial_numbers=(list[str], Field(default_factory=list,
                                     description="the claim's serial numbers, one or more")),
    **_CLAIM_FIELDS)
ClaimIn.__doc__ = ("One claim: the columns of SPEC §3, each optional text (required ones are "
                   "checked by the pipeline, as in a file), `serial_numbers` a list.")
