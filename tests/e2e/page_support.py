"""The portal's pages under test (in-process, FastAPI's TestClient on ``running_api``): a
browser of its own, signing in with a one-time link, the CSRF token of a page, an upload
through the upload page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Response

from rma.service.identity import add_user
from tests.e2e.api_support import Api
from tests.factories import valid_claim

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def browser(api: Api) -> TestClient:
    """A browser of its own (its own cookies) on the application."""
    return TestClient(api.client.app, raise_server_exceptions=False)


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, html
    return found.group(1)


def link_path(api: Api, account: str, email: str) -> str:
    invitation = add_user(api.engine, api.client.app.state.settings, account, email)
    return "/" + invitation.url.split("://", 1)[1].partition("/")[2]


def signed_in(api: Api, account: str, email: str) -> TestClient:
    client = browser(api)
    path = link_path(api, account, email)
    page = client.get(path)
    assert page.status_code == 200
    answer = client.post(path, data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


def upload(client: TestClient, data: bytes, name: str = "claims.csv") -> Response:
    """The upload page's form sent with this file (a check: nothing posted)."""
    token = csrf_of(client.get("/upload").text)
    return client.post("/upload", data={"csrf": token}, files={"file": (name, data)},
                       follow_redirects=False)


def staff_signed_in(api: Api, account: str, email: str) -> TestClient:
    """A browser signed in as a staff user of ``account``."""
    add_user(api.engine, api.client.app.state.settings, account, email, role="staff")
    return signed_in(api, account, email)


def claim_fields(*, serials: list[str], **overrides: object) -> dict[str, str]:
    """The claim form's fields filled in as a partner would: a valid claim (every column of
    ``valid_claim`` but the account, blank ones left out) with ``serials``, one a line."""
    row = valid_claim(**overrides)
    row.pop("serial_number")
    row.pop("account_id")
    fields = {name: str(value) for name, value in row.items() if value not in (None, "")}
    fields["serial_numbers"] = "\n".join(serials)
    return fields


def send_form(client: TestClient, page: str, action: str, fields: dict[str, str]) -> Response:
    """``fields`` sent through the form of ``page`` (its CSRF token) to ``action``."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf": token, **fields}, follow_redirects=False)
