"""Rejected rows corrected on the review page (SPEC §9), in-process: a bad cell corrected and
re-checked is accepted and nothing is posted; a correction still bad stays marked; submitting
posts the corrected rows as a new batch linked to the first, whose archived file holds the
rows as corrected; the same correction submitted again is not posted twice; another
account's batch is a 404; a form without its CSRF token is refused; a ``<script>`` typed into
a cell comes back as text; a re-check of 20 corrected rows answers within its bound."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from rma.adapters.db import tables as t
from rma.adapters.readers import read_bytes
from tests.e2e.api_support import Api, claims_csv, running_api
from tests.e2e.page_support import csrf_of, signed_in, upload
from tests.factories import valid_claim, write_xlsx

INPUT = re.compile(r'<(?:input type="text"|textarea) name="(cell-\d+-[a-z0-9_]+)"'
                   r'(?: id="[^"]*")?(?: value="([^"]*)")?')


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("corrections")
    with running_api(f"sqlite:///{folder / 'claims.db'}", folder) as running:
        yield running


def _count(api: Api, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    with api.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)
                            ).scalar_one()


def _checked(api: Api, client: TestClient, *rows: dict[str, object], name: str) -> str:
    """Upload ``rows`` through the upload page; the review page's path."""
    answer = upload(client, claims_csv(api.folder, *rows, name=name), name=name)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def _form(html: str) -> dict[str, str]:
    """The review page's corrections form as a browser would send it untouched."""
    fields = {name: value for name, value in INPUT.findall(html)}
    assert fields, html
    return {"csrf": csrf_of(html), **fields}


def _one_bad(api: Api, account: str, email: str, name: str, **bad: object
             ) -> tuple[TestClient, str, dict[str, str]]:
    """Signed in, one claim with ``bad`` cells uploaded: the browser, the review page's path
    and its corrections form."""
    client = signed_in(api, account, email)
    review = _checked(api, client, valid_claim(**bad), name=name)
    return client, review, _form(client.get(review).text)


def test_a_corrected_cell_re_checks_as_accepted_and_nothing_is_posted(api):
    client = signed_in(api, "D-001", "fix@d001.example")
    review = _checked(api, client, valid_claim(claim_ref="FX-OK"),
                      valid_claim(claim_ref="FX-1", recipient_email="not-an-address"),
                      name="fix.csv")
    page = client.get(review)
    form = _form(page.text)
    assert form["cell-3-recipient_email"] == "not-an-address"
    assert "cell-2-recipient_email" not in form  # accepted rows are not offered
    form["cell-3-recipient_email"] = "fixed@example.com"
    checked = client.post(f"{review}/recheck", data=form)
    assert checked.status_code == 200, checked.text
    assert re.search(r'<tr id="row-3" class="accepted"', checked.text), checked.text
    assert 'value="fixed@example.com"' in checked.text
    assert _count(api, t.claims, t.claims.c.claim_ref.in_(["FX-OK", "FX-1"])) == 0
    assert _count(api, t.batches, t.batches.c.corrects_batch_id.is_not(None)) == 0


def test_a_correction_still_bad_stays_marked_and_markup_comes_back_as_text(api):
    client, review, form = _one_bad(api, "D-001", "still@d001.example", "still.csv",
                                    claim_ref="ST-1", recipient_country="XX")
    form["cell-2-recipient_country"] = "<script>alert(1)</script>"
    checked = client.post(f"{review}/recheck", data=form)
    assert checked.status_code == 200
    html = checked.text
    assert re.search(r'<tr id="row-2" class="rejected"', html)
    assert "<script>alert(1)</script>" not in html
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    bad = re.findall(r'<td class="bad">(.*?)</td>', html, re.S)
    assert len(bad) == 1 and 'name="cell-2-recipient_country"' in bad[0]
    assert 'class="message"' in bad[0]


def test_nothing_changed_is_answered_on_the_page_and_nothing_is_checked(api):
    client, review, form = _one_bad(api, "D-001", "same@d001.example", "same.csv",
                                    claim_ref="SM-1", recipient_email="x")
    for action in ("recheck", "corrections"):
        answer = client.post(f"{review}/{action}", data=form)
        assert answer.status_code == 400 and "No cell was changed" in answer.text


def test_a_claim_spanning_rows_is_re_checked_whole(api):
    """Only one row of a two-row claim is bad and corrected: the other row goes with it (its
    SN is checked against the corrected row's, a duplicate SN rejects both)."""
    client = signed_in(api, "D-001", "span@d001.example")
    first = valid_claim(claim_ref="SP-1")
    second = valid_claim(claim_ref="SP-1", recipient_email="bad")
    review = _checked(api, client, first, second, name="span.csv")
    form = _form(client.get(review).text)
    assert "cell-3-recipient_email" in form
    form["cell-3-recipient_email"] = "good@example.com"
    form["cell-3-serial_number"] = str(first["serial_number"])
    html = client.post(f"{review}/recheck", data=form).text
    # both rows of the claim decided: the SN twice in the claim's rows is found, row 2 shown
    assert re.search(r'<tr id="row-3" class="rejected"', html), html
    assert re.search(r'<tr id="row-2" class="rejected"', html), html
    form["cell-3-serial_number"] = str(second["serial_number"])
    html = client.post(f"{review}/recheck", data=form).text
    assert re.search(r'<tr id="row-3" class="accepted"', html)
    assert re.search(r'<tr id="row-2" class="accepted"', html)


def test_submitting_posts_the_corrected_rows_as_a_linked_batch_once(api):
    client = signed_in(api, "D-001", "submit@d001.example")
    review = _checked(api, client, valid_claim(claim_ref="SB-OK"),
                      valid_claim(claim_ref="SB-1", recipient_phone="=1+2",
                                  recipient_email="nope"),
                      name="submit.csv")
    first = review.rsplit("/", 1)[1]
    form = _form(client.get(review).text)
    assert form["cell-3-recipient_phone"] == "=1+2"
    form["cell-3-recipient_email"] = "sb1@example.com"
    form["cell-3-recipient_phone"] = "+49 30 7654321"
    form["cell-3-notes"] = "=HYPERLINK(\"http://x\")"
    answer = client.post(f"{review}/corrections", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    posted = answer.headers["location"]
    batch_id = posted.rsplit("/", 1)[1]
    assert batch_id != first
    page = client.get(posted).text
    assert f'Corrects batch <a href="/batches/{first}">' in page
    assert f'href="/batches/{batch_id}"' in client.get(review).text  # corrected by
    document = api.client.get(f"/api/v1/batches/{batch_id}", headers=api.auth("D-001")).json()
    assert document["status"] == "posted" and document["corrects_batch_id"] == first
    assert document["claims_accepted"] == 1 and document["claims_rejected"] == 0
    original = api.client.get(f"/api/v1/batches/{first}", headers=api.auth("D-001")).json()
    assert original["corrected_by"] == [batch_id] and original["corrects_batch_id"] is None
    assert _count(api, t.claims, t.claims.c.claim_ref == "SB-1",
                  t.claims.c.batch_id == batch_id) == 1
    assert _count(api, t.claims, t.claims.c.claim_ref == "SB-OK") == 0  # not submitted

    # the rows as corrected are kept in the archive, formula-escaped, and read back as typed
    [kept] = [p for p in (api.folder / "archive").rglob("*.csv") if first in p.name]
    text = kept.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("Row,Errors,")
    assert "'=HYPERLINK" in text and "\n=" not in text and ",=" not in text
    sheet = read_bytes(kept.read_bytes(), kept.name)
    assert sheet.sent["notes"].tolist() == ['=HYPERLINK("http://x")']
    assert sheet.sent["recipient_email"].tolist() == ["sb1@example.com"]

    # the same correction again: the same content, not posted twice
    again = client.post(f"{review}/corrections", data=form, follow_redirects=False)
    assert again.status_code == 200 and "already processed" in again.text
    assert batch_id in again.text
    assert _count(api, t.claims, t.claims.c.claim_ref == "SB-1") == 1
    assert _count(api, t.batches, t.batches.c.corrects_batch_id == first) == 1


def test_another_accounts_batch_is_404_and_a_form_without_csrf_is_refused(api):
    client, review, form = _one_bad(api, "D-001", "own@d001.example", "own.csv",
                                    claim_ref="OW-1", recipient_email="x")
    form["cell-2-recipient_email"] = "ow1@example.com"
    other = signed_in(api, "D-002", "own@d002.example")
    stranger = {**form, "csrf": csrf_of(other.get("/upload").text)}
    unknown = other.post("/batches/B-doesnotexist/recheck", data=stranger)
    assert unknown.status_code == 404
    for action in ("recheck", "corrections"):
        answer = other.post(f"{review}/{action}", data=stranger)
        assert answer.status_code == 404 and answer.text == unknown.text
        for data in ({k: v for k, v in form.items() if k != "csrf"},
                     {**form, "csrf": "0" * 64}):
            refused = client.post(f"{review}/{action}", data=data)
            assert refused.status_code == 403 and "Form refused" in refused.text
    assert _count(api, t.batches, t.batches.c.account_id == "D-002") == 0
    assert _count(api, t.claims, t.claims.c.claim_ref == "OW-1") == 0


def test_a_re_check_of_20_corrected_rows_answers_within_its_bound(api):
    client = signed_in(api, "D-001", "speed@d001.example")
    rows = [valid_claim(claim_ref=f"SPD-{n}", recipient_email="bad") for n in range(20)]
    rows += [valid_claim(claim_ref=f"SPD-OK-{n}") for n in range(80)]
    review = _checked(api, client, *rows, name="speed.csv")
    form = _form(client.get(review).text)
    for n in range(20):
        form[f"cell-{n + 2}-recipient_email"] = f"spd{n}@example.com"
    client.post(f"{review}/recheck", data=form)  # warm
    times = []
    for _ in range(5):
        started = time.perf_counter()
        answer = client.post(f"{review}/recheck", data=form)
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200
    assert len(re.findall(r'class="accepted"', answer.text)) == 20
    best = min(times)
    print(f"re-check of 20 corrected rows: best {best * 1000:.0f} ms, "
          f"median {sorted(times)[2] * 1000:.0f} ms")
    assert best < 1.0  # SPEC target 300 ms on a warm server; generous for a loaded machine


def test_a_posted_uploads_rejected_rows_are_corrected_from_its_archived_file(api):
    """Submitted first as sent (its accepted claim posted), then its rejected row corrected
    on the posted batch's page: the correction is a batch linked to the posted one."""
    client = signed_in(api, "D-001", "later@d001.example")
    review = _checked(api, client, valid_claim(claim_ref="LT-OK"),
                      valid_claim(claim_ref="LT-1", site_country="Atlantis"), name="later.csv")
    html = client.get(review).text
    submitted = client.post(f"{review}/submit", data={"csrf": csrf_of(html)},
                            follow_redirects=False)
    assert submitted.status_code == 303
    posted = submitted.headers["location"]
    first = posted.rsplit("/", 1)[1]
    with api.engine.connect() as conn:
        kept = conn.execute(sa.select(t.batches.c.file).where(t.batches.c.batch_id == first)
                            ).scalar_one()
    assert kept and "archive" in Path(kept).parts and Path(kept).is_file()
    form = _form(client.get(posted).text)
    form["cell-3-site_country"] = "DE"
    other = signed_in(api, "D-002", "later@d002.example")
    stranger = {**form, "csrf": csrf_of(other.get("/upload").text)}
    assert other.post(f"{posted}/corrections", data=stranger).status_code == 404
    assert other.get(posted).status_code == 404
    answer = client.post(f"{posted}/corrections", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    batch_id = answer.headers["location"].rsplit("/", 1)[1]
    document = api.client.get(f"/api/v1/batches/{batch_id}", headers=api.auth("D-001")).json()
    assert document["corrects_batch_id"] == first and document["claims_accepted"] == 1
    assert _count(api, t.claims, t.claims.c.claim_ref.in_(["LT-OK", "LT-1"])) == 2


def test_an_xlsx_with_title_rows_real_dates_and_multi_sn_cells_corrects_as_typed(api):
    """Rows as the review shows them: real Excel dates as ISO dates, several SNs in one cell
    on lines of their own (a textarea), the rows numbered as in the file below its title."""
    client = signed_in(api, "D-001", "xlsx@d001.example")
    sns = "SNX100001\nSNX100002"
    path = write_xlsx(api.folder / "dated.xlsx", [
        valid_claim(claim_ref="XD-1", serial_number=sns, installation_date=dt.date(2025, 3, 1),
                    fault_date=dt.datetime(2025, 9, 15), recipient_email="bad")],
        title_rows=[["Our claims, November"]])
    answer = upload(client, path.read_bytes(), name="dated.xlsx")
    assert answer.status_code == 303, answer.text
    review = answer.headers["location"]
    html = client.get(review).text
    assert '<textarea name="cell-3-serial_number"' in html
    form = _form(html)
    assert form["cell-3-installation_date"] == "2025-03-01"
    assert form["cell-3-fault_date"] == "2025-09-15"
    form["cell-3-serial_number"] = sns.replace("\n", "\r\n")  # as a browser sends a textarea
    form["cell-3-recipient_email"] = "xd1@example.com"
    checked = client.post(f"{review}/recheck", data=form)
    assert re.search(r'<tr id="row-3" class="accepted"', checked.text), checked.text
    posted = client.post(f"{review}/corrections", data=form, follow_redirects=False)
    assert posted.status_code == 303, posted.text
    with api.engine.connect() as conn:
        lines = conn.execute(sa.select(t.claim_lines.c.serial_number).join(t.claims)
                             .where(t.claims.c.claim_ref == "XD-1")).scalars().all()
    assert sorted(lines) == ["SNX100001", "SNX100002"]


def test_a_re_check_counts_its_code_attempts_as_any_check(api):
    """A re-check is no free code oracle: a code it finds invalid counts towards the
    lock-out (SPEC §4, §9), although nothing is posted."""
    client, review, form = _one_bad(api, "I-SILVER", "codes@silver.example", "codes.csv",
                                    claim_ref="CD-1", rma_code="NO-SUCH-1")
    invalid = (t.code_attempts.c.account_id == "I-SILVER",
               t.code_attempts.c.outcome == "CODE_INVALID")
    before = _count(api, t.code_attempts, *invalid)
    form["cell-2-rma_code"] = "NO-SUCH-2"
    html = client.post(f"{review}/recheck", data=form).text
    assert re.search(r'<tr id="row-2" class="rejected"', html)
    assert _count(api, t.code_attempts, *invalid) == before + 1
    assert _count(api, t.batches, t.batches.c.account_id == "I-SILVER") == 0
