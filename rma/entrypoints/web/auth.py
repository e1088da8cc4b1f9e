"""Who an API request acts for: the account of its Bearer token (``rma tokens create``),
never anything the request sends. No token, an unknown or revoked one, or one of an account
that is no longer active: 401, the same for all."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rma.errors import ApiError
from rma.service.identity import rate_limited, token_account

#: documents the scheme in OpenAPI (the docs' Authorize button); the check is ours
bearer = HTTPBearer(auto_error=False, description="An API token from `rma tokens create`.")

UNAUTHORIZED = ApiError(401, "UNAUTHORIZED", "Send a valid API token: Authorization: Bearer "
                        "<token> (`rma tokens create`).", {"www-authenticate": "Bearer"})


def api_account(request: Request,
                credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
                ) -> str:
    """The account the request's token acts for."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise UNAUTHORIZED
    account = token_account(request.app.state.engine, credentials.credentials.strip())
    if account is None:
        raise UNAUTHORIZED
    return account


def within_rate(request: Request, bucket: str, key: str) -> None:
    """429 once ``key`` has used up its rate in ``bucket`` (RMA_RATE_*), with Retry-After."""
    rates = {"uploads": request.app.state.settings.portal.upload_rate,
             "codes": request.app.state.settings.portal.code_lookup_rate,
             "signin": request.app.state.settings.portal.signin_rate}
    wait = rate_limited(request.app.state.engine, bucket, key, rates[bucket])
    if wait is not None:
        raise ApiError(429, "RATE_LIMITED",
                       f"Too many requests of this kind ({rates[bucket]}); try again in "
                       f"{wait} s.", {"retry-after": str(wait)})
