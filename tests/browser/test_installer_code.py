"""An installer below the threshold files with an RMA code in a real browser (issue 16 "Done
when", the SolaX SOP): Customer Service issues the code with what they registered on the
staff page; the installer signs in, enters the code as read over the phone (lower case,
spaces), sees the CS prefill read-only, adds the supplements and two SNs, submits, and finds
the claim, carrying the prefill, in the claims list. A code that is none is refused on the
code step and nothing is filed."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from rma.adapters.db import tables as t
from rma.adapters.db.engine import make_engine
from rma.config import Settings, load_settings
from rma.service.identity import add_user
from tests.browser.steps import screenshot, search_claims, sign_in, signed_in
from tests.e2e.page_support import claim_fields
from tests.e2e.web_server import Web

CS_FIELDS = {"recipient_name": "CS Recipient", "recipient_city": "Munich",
             "product_model": "X3-HYBRID-10",
             "fault_description": "Battery does not charge (CS assessment by phone)"}


@contextmanager
def _database(portal: Web) -> Iterator[tuple[sa.Engine, Settings]]:
    """The server's claims database and settings, as its CLI would see them."""
    settings = load_settings({**os.environ, **portal.env})
    engine = make_engine(settings.database_url)
    try:
        yield engine, settings
    finally:
        engine.dispose()


def _claim(portal: Web, claim_id: str) -> dict[str, Any]:
    with _database(portal) as (engine, _), engine.connect() as conn:
        row = conn.execute(sa.select(t.claims).where(t.claims.c.claim_id == claim_id)).one()
    return dict(row._mapping)


def _staff_signed_in(page: Page, portal: Web) -> None:
    with _database(portal) as (engine, settings):
        link = add_user(engine, settings, "D-002", "cs@ops.example", role="staff").url
    sign_in(page, link)


def _issue_code(page: Page, account: str) -> str:
    """Issue a code on the staff page as CS would after the phone call: the code shown."""
    page.locator("#nav-staff").click()
    page.locator("#staff-codes").click()
    page.locator("#account_id").fill(account)
    for name, value in CS_FIELDS.items():
        page.locator(f"#{name}").fill(value)
    page.locator("#issue-code").click()
    issued = page.locator("#issued-code")
    expect(issued).to_be_visible()
    return issued.inner_text().strip()


def test_an_installer_enters_the_cs_code_sees_the_prefill_and_files_a_claim_carrying_it(
        open_page, portal):
    staff, _ = open_page()
    _staff_signed_in(staff, portal)
    code = _issue_code(staff, "I-SILVER")
    assert re.fullmatch(r"[A-Z0-9-]{6,}", code), code

    page, _ = open_page()
    signed_in(page, portal, "I-SILVER", "fitter@silver.example")
    page.locator("#nav-file-claim").click()
    expect(page.locator("#code-form")).to_be_visible()
    expect(page.locator("#claim-form")).to_have_count(0)  # no claim without a code first
    page.locator("#rma_code").fill(code.lower().replace("-", " "))
    page.locator("#look-up").click()

    expect(page.locator("#code")).to_have_text(code)
    for name, value in CS_FIELDS.items():  # what CS registered: shown, not asked for again
        expect(page.locator(f"#prefill-{name}")).to_have_text(value)
        expect(page.locator(f"#claim-form [name={name}]")).to_have_count(0)
    serials = ["SNBROWS0001", "SNBROWS0002"]
    supplements = claim_fields(serials=serials, claim_ref="BR-CODE")
    for name, value in supplements.items():
        field = page.locator(f"#claim-form [name={name}]")
        if field.count():
            field.fill(value)
    screenshot(page, "portal-claim-with-code")
    page.locator("#file-claim").click()

    claim_id = page.locator("#filed-claims li.claim-id").inner_text().strip()
    assert re.fullmatch(r"RMA-\d{4}-\d{6}", claim_id), claim_id
    [row] = search_claims(page, serials[1])
    assert row[0] == claim_id and row[1] == "BR-CODE"
    assert all(sn in row[3] for sn in serials)
    claim = _claim(portal, claim_id)
    assert claim["rma_code"] == code.replace("-", "")
    assert {name: claim[name] for name in CS_FIELDS} == CS_FIELDS


def test_a_code_that_is_none_is_refused_on_the_code_step_and_nothing_is_filed(open_page,
                                                                              portal):
    page, watcher = open_page()
    watcher.expect_status("/claims/new/code", 400)  # the code step answers with its error
    signed_in(page, portal, "I-SILVER", "guess@silver.example")
    page.goto("/claims/new")
    page.locator("#rma_code").fill("RMA-NOPE-0000")
    page.locator("#look-up").click()
    expect(page.locator("#code-error")).to_be_visible()
    expect(page.locator("#claim-form")).to_have_count(0)
    expect(page.locator("#rma_code")).to_have_value("RMA-NOPE-0000")
