"""The account's lists (SPEC §9): its claims (search by SN, claim ref, status) and its
batches with their reports; only the signed-in account's, never another's."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from rma.entrypoints.web.kit import Member, render
from rma.service.lookup import account_claims_page
from rma.service.portal import account_batches

router = APIRouter(include_in_schema=False)


@router.get("/batches")
def batches_page(request: Request, seen: Member, page: int = 1) -> HTMLResponse:
    listed = account_batches(request.app.state.engine, seen.account, page)
    return render(request, seen, "batches.html", batches=listed.items, page=listed)


@router.get("/claims")
def claims_page(request: Request, seen: Member, serial_number: str = "", claim_ref: str = "",
                status: str = "", page: int = 1) -> HTMLResponse:
    claims = account_claims_page(request.app.state.engine, seen.account,
                                 serial_number or None, claim_ref or None, status or None, page)
    return render(request, seen, "claims.html", claims=claims.items, page=claims,
                  serial_number=serial_number, claim_ref=claim_ref, status=status)
