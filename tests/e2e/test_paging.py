"""The portal's claims and batches pages a page at a time (issue 16's speed: an account with
thousands of claims): a count, next/previous links that are plain links (no JavaScript) and
keep the search, each claim on exactly one page, a page past the end the last one; and the
review page of a batch with more rejected rows than it shows says how many it leaves out."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest

from rma.service import lookup, portal
from tests.e2e.api_support import Api, claims_csv, running_api
from tests.e2e.page_support import signed_in, upload
from tests.factories import valid_claim

REFS = [f"PAGED-{i}" for i in range(5)]
LINK = re.compile(r'<a rel="(prev|next)" id="(?:previous|next)-page" href="([^"]+)"')


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("paging")
    with running_api(f"sqlite:///{folder / 'claims.db'}", folder) as running:
        posted = running.upload("D-001", claims_csv(
            folder, *(valid_claim(claim_ref=ref) for ref in REFS)), "paged.csv")
        assert posted.status_code == 201, posted.text
        yield running


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lookup, "CLAIMS_PAGE", 2)
    monkeypatch.setattr(portal, "BATCHES_PAGE", 2)


def _links(text: str) -> dict[str, str]:
    return {rel: html.unescape(href) for rel, href in LINK.findall(text)}


def _refs(text: str) -> list[str]:
    return [ref for ref in REFS if f"<td>{ref}</td>" in text]


def test_the_claims_page_pages_by_plain_links_each_claim_once(api, small_pages):
    client = signed_in(api, "D-001", "pages@d001.example")
    page = client.get("/claims")
    assert page.status_code == 200
    assert "Claims 1 to 2 of 5 (page 1 of 3)" in page.text
    seen, pages = _refs(page.text), 1
    assert "prev" not in _links(page.text)
    while "next" in _links(page.text):
        page = client.get(_links(page.text)["next"])
        assert page.status_code == 200 and "prev" in _links(page.text)
        seen += _refs(page.text)
        pages += 1
    assert pages == 3 and seen == REFS and "Claims 5 to 5 of 5 (page 3 of 3)" in page.text
    back = client.get(_links(page.text)["prev"])
    assert _refs(back.text) == REFS[2:4]
    past = client.get("/claims", params={"page": 99})
    assert past.status_code == 200 and _refs(past.text) == REFS[4:]


def test_the_claims_pages_keep_the_search(api, small_pages):
    client = signed_in(api, "D-001", "search@d001.example")
    page = client.get("/claims", params={"status": "submitted"})
    assert "of 5" in page.text
    assert _links(page.text)["next"] == "/claims?serial_number=&claim_ref=&status=submitted&page=2"
    one = client.get("/claims", params={"claim_ref": REFS[3]})
    assert _refs(one.text) == [REFS[3]] and "Claims 1 to 1 of 1" in one.text
    assert not _links(one.text)


def test_the_batches_page_pages_newest_first(api, small_pages):
    for n in range(2):
        data = claims_csv(api.folder, valid_claim(), name=f"chk-{n}.csv")
        assert api.upload("D-001", data, f"chk-{n}.csv", check=True).status_code == 200
    client = signed_in(api, "D-001", "batches@d001.example")
    first = client.get("/batches")
    assert "Batches 1 to 2 of 3, newest first (page 1 of 2)" in first.text
    assert "chk-1.csv" in first.text and "chk-0.csv" in first.text
    older = client.get(_links(first.text)["next"])
    assert "paged.csv" in older.text and "chk-" not in older.text
    assert _links(older.text) == {"prev": "/batches?page=1"}


def test_the_review_page_says_how_many_rejected_rows_it_does_not_show(api, monkeypatch):
    monkeypatch.setattr(portal, "EDITABLE_ROWS", 2)
    client = signed_in(api, "D-001", "review@d001.example")
    bad = [valid_claim(recipient_email=f"not-an-email-{i}") for i in range(3)]
    review = client.get(upload(client, claims_csv(api.folder, *bad, name="three-bad.csv"))
                        .headers["location"])
    assert review.status_code == 200
    assert "The first 2 of 3 rejected rows are shown here" in review.text
    assert 'id="row-2"' in review.text and 'id="row-3"' in review.text
    assert 'id="row-4"' not in review.text
    again = client.get(review.url.path)  # the table kept from the first view: the same page
    assert again.text == review.text


FIELD = re.compile(r'<input type="text" name="(cell-[^"]+)" id="[^"]*" value="([^"]*)"')


def test_a_recheck_takes_the_whole_form_of_many_editable_rows(api):
    client = signed_in(api, "D-001", "many@d001.example")
    bad = [valid_claim(recipient_email=f"not-an-email-{i}") for i in range(50)]
    review = client.get(upload(client, claims_csv(api.folder, *bad, name="fifty-bad.csv"))
                        .headers["location"])
    form = {name: html.unescape(value) for name, value in FIELD.findall(review.text)}
    assert len(form) > 1000  # above Starlette's default limit of form fields
    form["cell-2-recipient_email"] = "fixed@example.com"
    form["csrf"] = re.search(r'name="csrf" value="([0-9a-f]+)"', review.text).group(1)
    answer = client.post(f"{review.url.path}/recheck", data=form)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.text.count('data-verdict="accepted"') == 1
