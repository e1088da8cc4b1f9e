"""The portal's pages (SPEC §9) through the application of ``rma web`` in-process: signing in
with a one-time link (a GET does not use it up), the session cookie's flags, CSRF on every
form, the upload and its review page (every bad cell marked with its message, a cell's
markup shown as text), submitting the checked file, another account's batch a 404, and the
security headers on every page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from rma.adapters.db import tables as t
from rma.entrypoints.web.pages import SESSION_COOKIE
from rma.entrypoints.web.security import CONTENT_SECURITY_POLICY
from rma.service.identity import add_user
from tests.e2e.api_support import Api, claims_csv, running_api
from tests.e2e.page_support import browser, csrf_of, link_path, signed_in, upload
from tests.factories import valid_claim


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("pages")
    with running_api(f"sqlite:///{folder / 'claims.db'}", folder) as running:
        yield running

def test_a_link_shows_a_form_and_only_its_post_signs_in_once(api):
    client = browser(api)
    path = link_path(api, "D-001", "anna@d001.example")
    for _ in range(2):  # a mail scanner's GETs do not use the link up
        page = client.get(path)
        assert page.status_code == 200 and 'method="post"' in page.text
    assert client.get("/upload", follow_redirects=False).headers["location"] == "/signin"
    answer = client.post(path, data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/upload"
    cookie = next(v for k, v in answer.headers.multi_items()
                  if k == "set-cookie" and v.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    upload = client.get("/upload")
    assert upload.status_code == 200 and "D-001" in upload.text and "Sign out" in upload.text

    again = browser(api)
    page = again.get(path)
    used = again.post(path, data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert used.status_code == 400 and "used already" in used.text
    assert SESSION_COOKIE not in used.cookies


def test_the_session_cookie_is_secure_when_the_portal_is_https(tmp_path):
    with running_api(f"sqlite:///{tmp_path / 'claims.db'}", tmp_path,
                     RMA_PORTAL_URL="https://portal.example") as https:
        client = browser(https)
        client.base_url = "https://testserver"
        path = link_path(https, "D-001", "secure@d001.example")
        page = client.get(path)
        answer = client.post(path, data={"csrf": csrf_of(page.text)}, follow_redirects=False)
        cookie = next(v for k, v in answer.headers.multi_items()
                      if k == "set-cookie" and v.startswith(SESSION_COOKIE + "="))
        assert "Secure" in cookie and "HttpOnly" in cookie


def test_a_form_without_its_csrf_token_or_with_another_browsers_is_refused(api):
    path = link_path(api, "D-001", "csrf@d001.example")
    client = browser(api)
    client.get(path)
    for data in ({}, {"csrf": "0" * 64}):
        refused = client.post(path, data=data, follow_redirects=False)
        assert refused.status_code == 403 and "Form refused" in refused.text
    # another browser's token: right for that browser, wrong for this one
    other = browser(api)
    token = csrf_of(other.get("/signin").text)
    assert client.post(path, data={"csrf": token}).status_code == 403
    # the link was not used up by the refused forms
    assert client.post(path, data={"csrf": csrf_of(client.get(path).text)},
                       follow_redirects=False).status_code == 303
    member = client
    upload = member.post("/upload", files={"file": ("a.csv", b"x")})
    assert upload.status_code == 403
    out = member.post("/signout", data={}, follow_redirects=False)
    assert out.status_code == 403 and member.get("/upload").status_code == 200


def test_signing_out_ends_the_session(api):
    client = signed_in(api, "D-001", "out@d001.example")
    session = client.cookies[SESSION_COOKIE]
    page = client.get("/upload")
    answer = client.post("/signout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/signin"
    replay = browser(api)
    replay.cookies.set(SESSION_COOKIE, session)
    assert replay.get("/upload", follow_redirects=False).status_code == 303


def test_asking_for_a_link_answers_the_same_for_any_address_and_is_rate_limited(tmp_path):
    with running_api(f"sqlite:///{tmp_path / 'claims.db'}", tmp_path,
                     RMA_RATE_SIGNIN="2/15m") as limited:
        add_user(limited.engine, limited.client.app.state.settings, "D-001", "k@d001.example")
        client = browser(limited)
        token = csrf_of(client.get("/signin").text)
        known = client.post("/signin", data={"csrf": token, "email": "k@d001.example"})
        unknown = client.post("/signin", data={"csrf": token, "email": "nobody@x.example"})
        assert known.status_code == unknown.status_code == 200
        strip = re.compile(r'value="[0-9a-f]+"')
        assert strip.sub("", known.text) == strip.sub("", unknown.text)
        assert "on its way" in known.text
        over = client.post("/signin", data={"csrf": token, "email": "k@d001.example"})
        assert over.status_code == 429 and over.headers["retry-after"]
        outbox = sorted((tmp_path / "outbox").glob("*"))
        assert any("k@d001.example" in p.read_text(errors="replace") for p in outbox
                   if p.is_file())


def test_the_review_page_marks_every_bad_cell_with_its_message_and_shows_markup_as_text(api):
    client = signed_in(api, "D-001", "review@d001.example")
    data = claims_csv(api.folder, valid_claim(claim_ref="PG-OK"),
                      valid_claim(claim_ref="PG-BAD", recipient_country="<script>alert(1)</script>",
                                  recipient_email="not-an-address"),
                      name="review.csv")
    answer = upload(client, data)
    assert answer.status_code == 303, answer.text
    review_path = answer.headers["location"]
    page = client.get(review_path)
    assert page.status_code == 200
    html = page.text
    assert re.search(r'id="accepted">1<', html) and re.search(r'id="rejected">1<', html)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    bad = re.findall(r'<td class="bad">(.*?)</td>', html, re.S)
    assert len(bad) == 2, bad
    assert all('class="message"' in cell for cell in bad)
    assert any("script" in cell for cell in bad) and any("not-an-address" in cell for cell in bad)
    assert "PG-OK" not in html  # accepted rows are not in the rejected table
    batch_id = review_path.rsplit("/", 1)[1]
    for kind in ("xlsx", "csv"):
        assert f"{review_path}/rejections.{kind}" in html
        report = client.get(f"{review_path}/rejections.{kind}")
        assert report.status_code == 200 and report.content
    # the check posted nothing
    with api.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.claims)
                            .where(t.claims.c.claim_ref == "PG-OK")).scalar_one() == 0

    # another account: the same 404 as a batch that does not exist, for every path
    other = signed_in(api, "D-002", "review@d002.example")
    unknown = other.get("/batches/B-doesnotexist")
    assert unknown.status_code == 404
    for path in (review_path, f"{review_path}/rejections.xlsx", f"{review_path}/rejections.csv"):
        response = other.get(path)
        assert response.status_code == 404 and response.text == unknown.text, path
    token = csrf_of(other.get("/upload").text)
    assert other.post(f"/batches/{batch_id}/submit", data={"csrf": token}).status_code == 404

    # submitting posts the checked file as a batch: the accepted claim is posted
    submitted = client.post(f"/batches/{batch_id}/submit", data={"csrf": csrf_of(html)},
                            follow_redirects=False)
    assert submitted.status_code == 303, submitted.text
    posted = client.get(submitted.headers["location"])
    assert posted.status_code == 200 and "posted" in posted.text
    assert re.search(r"RMA-\d{4}-\d{6}", posted.text)
    with api.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.claims)
                            .where(t.claims.c.claim_ref == "PG-OK")).scalar_one() == 1
    # the checked file is posted: it cannot be submitted twice
    assert client.post(f"/batches/{batch_id}/submit",
                       data={"csrf": csrf_of(html)}).status_code == 404


def test_an_unreadable_upload_is_answered_on_the_upload_page(api):
    client = signed_in(api, "D-001", "bad@d001.example")
    answer = upload(client, b"not a spreadsheet", name="claims.pdf")
    assert answer.status_code == 400 and 'class="error"' in answer.text


def test_every_page_has_the_security_headers_and_no_inline_script_or_style(api):
    client = signed_in(api, "D-001", "headers@d001.example")
    pages = [client.get(p) for p in ("/signin", "/upload", "/batches/B-none")]
    pages.append(browser(api).get("/signin/whatever"))
    pages.append(client.post("/signout", data={}))
    for page in pages:
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["cache-control"] == "no-store"
        assert "<script" not in page.text and "style=" not in page.text
        assert "<style" not in page.text
    css = client.get("/static/portal.css")
    assert css.status_code == 200 and "td.bad" in css.text


def test_the_claims_page_searches_the_accounts_claims_and_the_batches_page_lists_its_batches(api):
    posted = api.upload("D-001", claims_csv(api.folder, valid_claim(claim_ref="PGC-1"),
                                            valid_claim(claim_ref="PGC-2"), name="list.csv"))
    assert posted.status_code == 201, posted.text
    batch = posted.json()
    checked = api.upload("D-001", claims_csv(api.folder, valid_claim(claim_ref="PGC-3"),
                                             name="list-check.csv"), check=True).json()
    client = signed_in(api, "D-001", "lists@d001.example")
    everything = client.get("/claims")
    assert everything.status_code == 200
    assert "PGC-1" in everything.text and "PGC-2" in everything.text
    one = client.get("/claims", params={"claim_ref": "PGC-1"})
    assert "PGC-1" in one.text and "PGC-2" not in one.text
    assert "PGC-1" not in client.get("/claims", params={"status": "no-such-status"}).text
    other = signed_in(api, "D-002", "lists@d002.example")
    assert "PGC-1" not in other.get("/claims").text

    listed = client.get("/batches")
    assert listed.status_code == 200
    for batch_id in (batch["batch_id"], checked["batch_id"]):
        assert f'href="/batches/{batch_id}"' in listed.text
    assert batch["batch_id"] not in other.get("/batches").text
