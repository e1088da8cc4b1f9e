"""A partner's path through the portal in a real browser (issue 16 "Done when"): sign in with
the link `rma users add` printed, upload a csv batch with errors, see every bad cell marked
with its message, correct one in place, re-check (the row turns accepted, nothing is posted),
submit the corrected rows, find the claim in the claims list by its SN. Markup typed into a
cell is shown as text and runs nothing. The review page's screenshots are kept."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.steps import (
    bad_cells,
    count,
    invite_with_cli,
    row_verdict,
    screenshot,
    search_claims,
    sign_in,
    signed_in,
    upload,
)
from tests.factories import valid_claim, write_csv


def test_a_bad_cell_corrected_in_place_is_re_checked_submitted_and_found_in_the_claims(
        open_page, portal, tmp_path):
    good = valid_claim(claim_ref="BR-OK")
    fixable = valid_claim(claim_ref="BR-FIX", recipient_email="anna at example")
    hopeless = valid_claim(claim_ref="BR-BAD", recipient_country="XX",
                           installation_date="not a date")
    path = write_csv(tmp_path / "march.csv", [good, fixable, hopeless])
    page, _ = open_page()
    sign_in(page, invite_with_cli(portal, "D-001", "flow@d001.example"))

    review = upload(page, path, screenshot_as="portal-upload")
    assert (count(page, "accepted"), count(page, "rejected")) == (1, 2)
    cells = bad_cells(page)
    assert set(cells) == {"cell-3-recipient_email", "cell-4-recipient_country",
                          "cell-4-installation_date"}, cells
    assert all(messages and all(m.strip() for m in messages) for messages in cells.values())
    assert page.locator("#cell-3-recipient_email").input_value() == "anna at example"
    expect(page.locator("#cell-3-recipient_email")).to_have_attribute("aria-invalid", "true")
    submit = page.get_by_role("button", name="Submit: post the 1 accepted claim", exact=True)
    expect(submit).to_be_visible()
    screenshot(page, "portal-review", show="td.bad")

    page.locator("#cell-3-recipient_email").fill("anna@example.com")
    page.locator("#recheck").click()
    expect(page.locator("#row-3")).to_have_attribute("data-verdict", "accepted")
    assert row_verdict(page, 4) is None  # not corrected: not re-checked, still marked
    expect(page.locator("#cell-4-recipient_country")).to_have_attribute("aria-invalid", "true")
    assert page.locator("#cell-3-recipient_email").input_value() == "anna@example.com"
    screenshot(page, "review-rechecked", show="td.bad")
    tab, _ = open_page(tab_of=page)
    assert search_claims(tab, str(fixable["serial_number"])) == []  # a re-check posts nothing

    page.locator("#submit-corrected").click()
    expect(page.locator("#corrects")).to_contain_text(review.rsplit("/", 1)[1])
    assert count(page, "accepted") == 1
    corrected = page.url
    screenshot(page, "review-corrected")

    [row] = search_claims(page, str(fixable["serial_number"]))
    assert row[1] == "BR-FIX" and str(fixable["serial_number"]) in row[3]
    assert corrected.endswith(row[6])  # the claim's batch is the corrected batch
    screenshot(page, "portal-claims")


def test_markup_in_a_cell_is_shown_as_text_in_its_input_and_runs_nothing(page, portal,
                                                                          tmp_path):
    # each closes the attribute it is shown in first: a value that is not escaped breaks out
    script = '"><script>window.pwned = 1; alert(1)</script>'
    bold = '"><b>bold</b>@example'
    path = write_csv(tmp_path / "markup.csv",
                     [valid_claim(claim_ref="BR-XSS", recipient_country=script,
                                  recipient_email=bold)])
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    signed_in(page, portal, "D-001", "markup@d001.example")

    upload(page, path)
    assert set(bad_cells(page)) == {"cell-2-recipient_country", "cell-2-recipient_email"}
    assert page.locator("#cell-2-recipient_country").input_value() == script
    assert page.locator("#cell-2-recipient_email").input_value() == bold
    assert page.locator("table.review script, table.review b").count() == 0
    assert page.evaluate("window.pwned") is None and dialogs == []
    # no claim accepted: nothing to post, no "Submit: post the 0 accepted claims"
    expect(page.get_by_role("button", name=re.compile(r"^Submit: post"))).to_have_count(0)
    screenshot(page, "review-markup", show="td.bad")

    page.locator("#cell-2-recipient_email").fill('still "><b>bad</b>')
    page.locator("#recheck").click()
    expect(page.locator("#row-2")).to_have_attribute("data-verdict", "rejected")
    assert page.locator("#cell-2-recipient_email").input_value() == 'still "><b>bad</b>'
    assert page.locator("table.review script, table.review b").count() == 0
    assert page.evaluate("window.pwned") is None and dialogs == []
