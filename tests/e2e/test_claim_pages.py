"""Filing one claim by hand on the portal (SPEC §9), in-process: a distributor files with
three SNs and finds the claim; bad input comes back with every bad field marked and its value
kept, markup as text; an installer below the threshold enters the RMA code, sees what
Customer Service registered, adds the rest and files a claim that carries the prefill; an
unknown code and another account's are one answer and count towards the lock-out, which
then blocks; the code step and the API share one rate of look-ups; a form without its CSRF
token does nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from rma.adapters.db import tables as t
from rma.entrypoints.web.security import CONTENT_SECURITY_POLICY
from rma.service.codes import issue_code
from tests.e2e.api_support import Api, running_api
from tests.e2e.page_support import claim_fields, csrf_of, send_form, signed_in

CLAIM_ID = re.compile(r'<li class="claim-id">(RMA-\d{4}-\d{6})</li>')
CS_FIELDS = {"recipient_name": "CS Recipient", "recipient_city": "Munich",
             "site_address": "CS Site 9", "product_model": "X3-HYBRID-10",
             "fault_description": "Battery does not charge (CS assessment by phone)"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("claim-pages")
    with running_api(f"sqlite:///{folder / 'claims.db'}", folder) as running:
        yield running


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Api]:
    """An application of its own: the lock-out of one test is no other's."""
    with running_api(f"sqlite:///{tmp_path / 'claims.db'}", tmp_path) as running:
        yield running


def _count(api: Api, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    with api.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)
                            ).scalar_one()


def _claim(api: Api, claim_id: str) -> dict[str, object]:
    with api.engine.connect() as conn:
        row = conn.execute(sa.select(t.claims).where(t.claims.c.claim_id == claim_id)).one()
    return dict(row._mapping)


def _batch_of(html: str) -> str:
    found = re.search(r'<a href="(/batches/[^"]+)" id="batch-link"', html)
    assert found, html
    return found.group(1)


def test_a_distributor_files_one_claim_with_three_sns_and_finds_it(api):
    client = signed_in(api, "D-001", "filer@d001.example")
    assert 'href="/claims/new"' in client.get("/upload").text  # in the nav
    page = client.get("/claims/new")
    assert page.status_code == 200 and 'id="claim-form"' in page.text
    assert 'id="code-form"' not in page.text
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "<script" not in page.text and "style=" not in page.text
    serials = ["SNHAND0001", "SNHAND0002", "SNHAND0003"]
    answer = send_form(client, "/claims/new", "/claims/new",
                       claim_fields(serials=serials, claim_ref="HAND-1"))
    assert answer.status_code == 200, answer.text
    [claim_id] = CLAIM_ID.findall(answer.text)
    review = client.get(_batch_of(answer.text))
    assert review.status_code == 200 and re.search(r'id="accepted">1<', review.text)
    listed = client.get("/claims", params={"claim_ref": "HAND-1"}).text
    assert claim_id in listed and all(sn in listed for sn in serials)
    assert _count(api, t.claim_lines, t.claim_lines.c.claim_id == claim_id) == 3
    claim = _claim(api, claim_id)
    assert claim["account_id"] == "D-001" and claim["recipient_city"] == "Berlin"


def test_bad_input_comes_back_with_every_bad_field_marked_its_value_kept_markup_as_text(api):
    client = signed_in(api, "D-001", "typo@d001.example")
    fields = claim_fields(serials=["SNBAD00001", "bad sn!"], claim_ref="HAND-BAD",
                          recipient_email="not-an-address", recipient_country="Narnia",
                          recipient_city="<script>alert(1)</script>",
                          installation_date="03/04/2025")
    answer = send_form(client, "/claims/new", "/claims/new", fields)
    assert answer.status_code == 400
    html = answer.text
    for name in ("serial_numbers", "recipient_email", "recipient_country",
                 "installation_date"):
        assert re.search(rf'<span class="message" id="{name}-error">[^<]+</span>', html), name
        assert f'aria-describedby="{name}-error"' in html
    assert 'id="recipient_city-error"' not in html and 'id="site_city-error"' not in html
    assert 'value="Narnia"' in html and 'value="not-an-address"' in html
    assert "SNBAD00001\nbad sn!</textarea>" in html
    assert "<script>alert(1)</script>" not in html
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert _count(api, t.claims, t.claims.c.claim_ref == "HAND-BAD") == 0
    # the same bad claim again: the same marked form, nothing filed
    again = send_form(client, "/claims/new", "/claims/new", fields)
    assert again.status_code == 400 and 'id="recipient_email-error"' in again.text


def test_an_installer_enters_the_code_sees_the_prefill_and_files_a_claim_carrying_it(api):
    settings = api.client.app.state.settings
    code = issue_code(api.engine, settings, "I-SILVER", [], CS_FIELDS)
    client = signed_in(api, "I-SILVER", "fitter@silver.example")
    first = client.get("/claims/new")
    assert 'id="code-form"' in first.text and 'id="claim-form"' not in first.text
    typed = code.lower().replace("-", " ")  # codes match ignoring case, spaces and dashes
    step2 = send_form(client, "/claims/new", "/claims/new/code", {"rma_code": typed})
    assert step2.status_code == 200, step2.text
    html = step2.text
    assert 'id="claim-form"' in html and f'<code id="code">{code}</code>' in html
    for name, value in CS_FIELDS.items():  # shown, and not asked for
        assert f'<dd id="prefill-{name}">{value}</dd>' in html
        assert f'name="{name}"' not in html
    assert 'name="recipient_phone"' in html and 'name="serial_numbers"' in html
    supplements = claim_fields(serials=["SNSILV0001", "SNSILV0002"], claim_ref="SILV-HAND")
    for name in CS_FIELDS:
        supplements.pop(name, None)
    filed = client.post("/claims/new", data={"csrf": csrf_of(html), "code": code,
                                             **supplements})
    assert filed.status_code == 200, filed.text
    [claim_id] = CLAIM_ID.findall(filed.text)
    claim = _claim(api, claim_id)
    assert claim["rma_code"] == code.replace("-", "")
    assert {name: claim[name] for name in CS_FIELDS} == CS_FIELDS
    assert claim["recipient_phone"] and claim["account_id"] == "I-SILVER"
    # the code is redeemed: looking it up again says so, on step 1
    used = send_form(client, "/claims/new", "/claims/new/code", {"rma_code": code})
    assert used.status_code == 400 and 'id="code-error"' in used.text
    assert "already been used" in used.text


def test_an_installer_without_a_code_is_asked_for_it_and_nothing_is_filed(api):
    client = signed_in(api, "I-SILVER", "nocode@silver.example")
    before = _count(api, t.batches)
    answer = send_form(client, "/claims/new", "/claims/new",
                       claim_fields(serials=["SNNOCODE01"]))
    assert answer.status_code == 400 and 'id="code-form"' in answer.text
    assert _count(api, t.batches) == before
    gold = signed_in(api, "I-GOLD", "fitter@gold.example")  # at the threshold: no code
    assert 'id="claim-form"' in gold.get("/claims/new").text


def test_an_unknown_code_and_another_accounts_are_one_answer_and_five_lock_the_account(fresh):
    api = fresh
    client = signed_in(api, "I-SILVER", "guess@silver.example")
    unknown = send_form(client, "/claims/new", "/claims/new/code", {"rma_code": "NOPE-0000"})
    foreign = send_form(client, "/claims/new", "/claims/new/code", {"rma_code": "GOOD-0001"})
    assert unknown.status_code == foreign.status_code == 400
    assert unknown.text.replace("NOPE-0000", "X") == foreign.text.replace("GOOD-0001", "X")
    assert "Munich" not in foreign.text and "CS Site 1" not in foreign.text
    invalid = t.code_attempts.c.outcome == "CODE_INVALID"
    # a claim filed with a code that is none: step 1 again, its attempt counted once
    filed = send_form(client, "/claims/new", "/claims/new",
                      {"code": "NOPE-1111", **claim_fields(serials=["SNNOPE0001"])})
    assert filed.status_code == 400 and 'id="code-error"' in filed.text
    assert 'value="NOPE-1111"' in filed.text and 'id="claim-form"' not in filed.text
    assert _count(api, t.code_attempts, invalid, t.code_attempts.c.account_id == "I-SILVER") == 3
    for n in range(2):
        send_form(client, "/claims/new", "/claims/new/code", {"rma_code": f"GUESS-{n}"})
    assert _count(api, t.code_attempts, invalid, t.code_attempts.c.account_id == "I-SILVER") == 5
    # locked: a valid code of the account is refused too, on the look-up and on filing
    locked = send_form(client, "/claims/new", "/claims/new/code", {"rma_code": "SILV-0006"})
    assert locked.status_code == 429 and 'id="code-error"' in locked.text
    assert "Too many invalid RMA codes" in locked.text and 'id="claim-form"' not in locked.text
    filed = send_form(client, "/claims/new", "/claims/new",
                      {"code": "SILV-0006", **claim_fields(serials=["SNLOCK0001"])})
    assert filed.status_code == 429 and "Too many invalid RMA codes" in filed.text
    assert _count(api, t.claims, t.claims.c.account_id == "I-SILVER") == 0


def test_a_form_of_the_claim_pages_without_its_csrf_token_does_nothing(fresh):
    api = fresh
    client = signed_in(api, "I-SILVER", "csrf@silver.example")
    batches, attempts = _count(api, t.batches), _count(api, t.code_attempts)
    for action, fields in (("/claims/new/code", {"rma_code": "NOPE-0000"}),
                           ("/claims/new", {"code": "SILV-0006",
                                            **claim_fields(serials=["SNCSRF0001"])})):
        for token in ({}, {"csrf": "0" * 64}):
            refused = client.post(action, data={**token, **fields})
            assert refused.status_code == 403 and "Form refused" in refused.text
    assert _count(api, t.batches) == batches and _count(api, t.code_attempts) == attempts


def test_the_code_step_and_the_api_share_one_rate_of_look_ups(tmp_path):
    with running_api(f"sqlite:///{tmp_path / 'claims.db'}", tmp_path,
                     RMA_RATE_CODE_LOOKUPS="2/1h") as api:
        client = signed_in(api, "I-SILVER", "rate@silver.example")
        assert api.client.get("/api/v1/codes/SILV-0006",
                              headers=api.auth("I-SILVER")).status_code == 200
        page = send_form(client, "/claims/new", "/claims/new/code", {"rma_code": "SILV-0006"})
        assert page.status_code == 200 and 'id="claim-form"' in page.text
        over = send_form(client, "/claims/new", "/claims/new/code", {"rma_code": "SILV-0006"})
        assert over.status_code == 429 and over.headers["retry-after"]
        assert "Too many requests" in over.text
        assert api.client.get("/api/v1/codes/SILV-0006",
                              headers=api.auth("I-SILVER")).status_code == 429
