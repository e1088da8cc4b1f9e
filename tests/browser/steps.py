"""What a partner does in the portal, as steps on a Playwright page: sign in with the
one-time link that `rma users add` prints (or that the sign-in page mails to the outbox),
upload a file, read the marked cells of the review page, correct a cell, search the claims
list, keep a screenshot. Each step waits for the page it leads to, so a test reads as the
path a person takes."""

from __future__ import annotations

import email
import email.policy
import os
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from rma.adapters.db.engine import make_engine
from rma.config import load_settings
from rma.service.identity import add_user
from tests.e2e.web_server import Web

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def invite_with_cli(portal: Web, account: str, address: str) -> str:
    """``rma users add`` as operations run it: the one-time sign-in link it prints last."""
    made = portal.rma("users", "add", "--account", account, "--email", address)
    assert made.returncode == 0, made.stderr
    url = made.stdout.strip().splitlines()[-1]
    assert url.startswith(portal.base + "/signin/"), made.stdout
    return url


def invite(portal: Web, account: str, address: str, role: str | None = None) -> str:
    """The link ``rma users add`` makes, made by the function it calls, in this process: a
    second `rma` process costs seconds of imports on a loaded machine, per test."""
    settings = load_settings({**os.environ, **portal.env})
    engine = make_engine(settings.database_url)
    try:
        url = add_user(engine, settings, account, address, role).url
    finally:
        engine.dispose()
    assert url.startswith(portal.base + "/signin/"), url
    return url


def link_from_outbox(portal: Web, address: str) -> str:
    """The sign-in link of the newest mail to ``address`` waiting in the outbox."""
    mails = sorted((portal.folder / "outbox").glob("*.eml"), reverse=True)
    for path in mails:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] != address:
            continue
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        found = re.search(re.escape(portal.base) + r"/signin/\S+", body.get_content())
        assert found, body.get_content()
        return found.group(0)
    raise AssertionError(f"no mail to {address} in the outbox: {[p.name for p in mails]}")


def sign_in(page: Page, link: str) -> None:
    """Open the link, press "Sign in": the upload page, signed in."""
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/upload$"))
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def signed_in(page: Page, portal: Web, account: str, address: str,
              role: str | None = None) -> Page:
    """A new user of ``account`` signed in on ``page`` with its first link."""
    sign_in(page, invite(portal, account, address, role))
    return page


def upload(page: Page, path: Path, screenshot_as: str | None = None) -> str:
    """Upload ``path`` on the upload page (a screenshot of it with the file chosen, when
    ``screenshot_as``): the review page's path (/batches/ID)."""
    page.goto("/upload")
    page.locator("#file").set_input_files(path)
    if screenshot_as:
        screenshot(page, screenshot_as)
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Batch "))).to_be_visible()
    return "/" + page.url.split("://", 1)[1].partition("/")[2]


def count(page: Page, which: str) -> int:
    """The review page's ``accepted`` or ``rejected`` count."""
    return int(page.locator(f"#{which}").inner_text())


def bad_cells(page: Page) -> dict[str, list[str]]:
    """Every cell marked bad on the review page: its field (``cell-ROW-COLUMN``) and its
    messages as shown."""
    cells: dict[str, list[str]] = {}
    for cell in page.locator("td.bad").all():
        field = cell.locator("input, textarea").first.get_attribute("name") or ""
        cells[field] = [m.inner_text() for m in cell.locator(".message").all()]
    return cells


def row_verdict(page: Page, row: int) -> str | None:
    return page.locator(f"#row-{row}").get_attribute("data-verdict")


def search_claims(page: Page, serial_number: str) -> list[list[str]]:
    """Search the claims list by SN: the cells of each row found."""
    page.goto("/claims")
    page.get_by_label("Serial number").fill(serial_number)
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/claims\?"))
    return [[cell.inner_text() for cell in row.locator("td").all()]
            for row in page.locator("table.list tbody tr").all()]


def screenshot(page: Page, name: str, show: str | None = None) -> Path:
    """Keep a full-page screenshot under tests/browser/screenshots (git-ignored); ``show``:
    a selector scrolled into view first (the review table scrolls sideways: its marked cells
    are far to the right of a 1280-pixel window)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    if show:
        page.locator(show).first.scroll_into_view_if_needed()
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
