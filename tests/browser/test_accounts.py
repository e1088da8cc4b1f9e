"""Signing in and what one account can reach in a real browser: a link asked for on the
sign-in page arrives in the outbox and signs in once; another account's review page, report
and claim are the same 404 as a batch that does not exist (SPEC §9: never 403)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.steps import invite, link_from_outbox, search_claims, sign_in, signed_in, upload
from tests.factories import valid_claim, write_csv


def test_a_link_asked_for_on_the_sign_in_page_arrives_by_mail_and_works_once(
        open_page, portal):
    invite(portal, "D-001", "asks@d001.example")  # a registered user (this link unused)
    page, watcher = open_page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin$"))
    page.get_by_label("Your e-mail address").fill("asks@d001.example")
    page.get_by_role("button", name="Send me a sign-in link").click()
    expect(page.locator(".notice")).to_contain_text("on its way")
    link = link_from_outbox(portal, "asks@d001.example")

    sign_in(page, link)
    expect(page.locator(".account")).to_contain_text("asks@d001.example")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/signin$"))

    watcher.expect_status(link.removeprefix(portal.base), 400)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Link not valid")).to_be_visible()


def test_another_accounts_review_page_report_and_claim_are_404(open_page, portal, tmp_path):
    owner, _ = open_page()
    signed_in(owner, portal, "D-001", "owner@d001.example")
    claim = valid_claim(claim_ref="BR-MINE", recipient_email="bad")
    review = upload(owner, write_csv(tmp_path / "mine.csv", [claim]))
    with owner.expect_download() as download:
        owner.get_by_role("link", name="rejections.csv").click()
    assert "BR-MINE" in download.value.path().read_text(encoding="utf-8")
    kept = valid_claim(claim_ref="BR-P")
    upload(owner, write_csv(tmp_path / "posted.csv", [kept]))
    owner.get_by_role("button", name=re.compile(r"^Submit: post")).click()
    expect(owner.locator(".claim-ids li")).to_have_count(1)
    posted = "/" + owner.url.split("://", 1)[1].partition("/")[2]
    [mine] = search_claims(owner, str(kept["serial_number"]))
    assert mine[1] == "BR-P" and posted.endswith(mine[6])

    other, watcher = open_page()
    signed_in(other, portal, "D-002", "other@d002.example")
    unknown = "/batches/B-00000000-does-not-exist"
    paths = [review, review + "/rejections.csv", review + "/rejections.xlsx", posted, unknown]
    for path in paths:
        watcher.expect_status(path, 404)
    answers = {}
    for path in paths:
        answer = other.goto(path)
        assert answer is not None and answer.status == 404, path
        answers[path] = other.locator("main").inner_text()
    assert len(set(answers.values())) == 1, answers  # the same as a batch that does not exist
    assert "BR-MINE" not in other.content()
    assert search_claims(other, str(kept["serial_number"])) == []
    assert search_claims(other, "") == []  # D-002 has no claims of its own
