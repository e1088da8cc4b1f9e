"""The core path works with JavaScript off (SPEC §9, issue 16): sign in, upload, review the
marked cells, correct one and re-check, submit the corrected rows, all by plain forms. The
row's cell of several SNs (one a line) is a textarea, which a browser sends with CRLF."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.steps import bad_cells, count, invite, search_claims, sign_in, upload
from tests.factories import valid_claim, write_csv


def test_sign_in_upload_review_and_submit_work_with_javascript_off(open_page, portal, tmp_path):
    page, _ = open_page(javascript=False)
    page.goto("/api/docs")  # no script runs: Swagger UI draws nothing
    page.wait_for_load_state("load")
    assert page.locator("#swagger-ui").inner_html() == ""
    claim = valid_claim(claim_ref="BR-NOJS", recipient_phone="call me")
    first, second = claim["serial_number"], f"{claim['serial_number']}B"
    claim["serial_number"] = f"{first}\n{second}"
    path = write_csv(tmp_path / "nojs.csv", [claim])

    sign_in(page, invite(portal, "D-001", "nojs@d001.example"))
    review = upload(page, path)
    assert count(page, "rejected") == 1
    assert set(bad_cells(page)) == {"cell-2-recipient_phone"}
    sns = page.locator("textarea#cell-2-serial_number")
    assert sns.input_value() == f"{first}\n{second}"

    page.locator("#cell-2-recipient_phone").fill("+49 30 7654321")
    page.locator("#recheck").click()
    expect(page.locator("#row-2")).to_have_attribute("data-verdict", "accepted")
    assert sns.input_value() == f"{first}\n{second}"

    page.locator("#submit-corrected").click()
    expect(page.locator("#corrects")).to_contain_text(review.rsplit("/", 1)[1])
    [row] = search_claims(page, second)
    assert row[1] == "BR-NOJS" and row[3] == f"{first}, {second}"
