"""The staff pages of the portal (SPEC §9), in-process: a partner gets the 404 of a page that
does not exist on every one of them, and its forms do nothing; staff issue an RMA code with
its prefill that an installer then files with, lift a lock-out, and see the runs, the waiting
and the quarantined files of the inbox."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from rma.adapters.db import tables as t
from rma.entrypoints.web.security import CONTENT_SECURITY_POLICY
from tests.e2e.api_support import Api, running_api
from tests.e2e.page_support import claim_fields, csrf_of, send_form, signed_in, staff_signed_in

STAFF_PAGES = ("/staff", "/staff/codes", "/staff/lockouts")
ISSUED = re.compile(r'<code id="issued-code">([A-Z0-9-]+)</code>')


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("staff-pages")
    with running_api(f"sqlite:///{folder / 'claims.db'}", folder) as running:
        yield running


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Api]:
    """An application of its own: its lock-out is no other test's."""
    with running_api(f"sqlite:///{tmp_path / 'claims.db'}", tmp_path) as running:
        yield running


def _codes(api: Api) -> int:
    with api.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(t.rma_codes)).scalar_one()


def test_every_staff_page_is_the_404_of_an_unknown_page_for_a_partner(api):
    partner = signed_in(api, "D-001", "partner@d001.example")
    unknown = partner.get("/no-such-page")
    assert unknown.status_code == 404 and "<h1>Not found</h1>" in unknown.text
    assert 'id="nav-staff"' not in partner.get("/upload").text
    token = csrf_of(partner.get("/upload").text)
    codes = _codes(api)
    for path in STAFF_PAGES:
        page = partner.get(path)
        assert page.status_code == 404 and page.text == unknown.text, path
        sent = partner.post(path, data={"csrf": token, "account_id": "I-SILVER"})
        assert sent.status_code in (404, 405) and _codes(api) == codes, path
    assert partner.post("/staff/codes", data={"csrf": token, "account_id": "D-001"}
                        ).text == unknown.text
    assert _codes(api) == codes
    # the API keeps its JSON 404
    assert api.client.get("/api/v1/nowhere").json()["error"]["code"] == "NOT_FOUND"


def test_staff_issue_a_code_with_its_prefill_and_the_installer_files_with_it(api):
    staff = staff_signed_in(api, "D-002", "cs@ops.example")
    assert 'id="nav-staff"' in staff.get("/upload").text
    before = _codes(api)
    refused = staff.post("/staff/codes", data={"account_id": "I-SILVER"})
    assert refused.status_code == 403 and _codes(api) == before
    bad = send_form(staff, "/staff/codes", "/staff/codes",
                    {"account_id": "NOBODY", "recipient_city": "Graz"})
    assert bad.status_code == 400 and 'id="issue-error"' in bad.text
    assert 'value="Graz"' in bad.text and _codes(api) == before
    issued = send_form(staff, "/staff/codes", "/staff/codes", {
        "account_id": "I-SILVER", "serial_numbers": "SNSTAFF001\nSNSTAFF002",
        "recipient_city": "Graz", "site_address": "Feldweg <7>", "valid_days": "30"})
    assert issued.status_code == 200, issued.text
    [code] = ISSUED.findall(issued.text)
    assert _codes(api) == before + 1

    installer = signed_in(api, "I-SILVER", "fitter@silver.example")
    step2 = send_form(installer, "/claims/new", "/claims/new/code", {"rma_code": code})
    assert step2.status_code == 200, step2.text
    assert '<dd id="prefill-recipient_city">Graz</dd>' in step2.text
    assert '<dd id="prefill-site_address">Feldweg &lt;7&gt;</dd>' in step2.text
    assert "SNSTAFF001\nSNSTAFF002</textarea>" in step2.text  # the SNs it covers, filled in
    fields = claim_fields(serials=["SNSTAFF001", "SNSTAFF002"], claim_ref="STAFF-1")
    for name in ("recipient_city", "site_address"):
        fields.pop(name)
    filed = installer.post("/claims/new", data={"csrf": csrf_of(step2.text), "code": code,
                                                **fields})
    assert filed.status_code == 200 and 'class="claim-id"' in filed.text, filed.text
    with api.engine.connect() as conn:
        city = conn.execute(sa.select(t.claims.c.recipient_city)
                            .where(t.claims.c.claim_ref == "STAFF-1")).scalar_one()
    assert city == "Graz"


def test_staff_lift_a_lock_out_and_the_installer_may_use_its_codes_again(fresh):
    api = fresh
    installer = signed_in(api, "I-SILVER", "locked@silver.example")
    for n in range(5):
        send_form(installer, "/claims/new", "/claims/new/code", {"rma_code": f"GUESS-{n}"})
    locked = send_form(installer, "/claims/new", "/claims/new/code", {"rma_code": "SILV-0006"})
    assert locked.status_code == 429

    staff = staff_signed_in(api, "D-002", "unlock@ops.example")
    listed = staff.get("/staff/lockouts").text
    assert 'id="unlock-I-SILVER"' in listed and "Silver Installs" in listed
    assert staff.post("/staff/lockouts", data={"account_id": "I-SILVER"}).status_code == 403
    unknown = send_form(staff, "/staff/lockouts", "/staff/lockouts", {"account_id": "NOBODY"})
    assert unknown.status_code == 400 and 'id="unlock-error"' in unknown.text
    lifted = send_form(staff, "/staff/lockouts", "/staff/lockouts", {"account_id": "I-SILVER"})
    assert lifted.status_code == 200 and 'id="unlocked"' in lifted.text
    assert 'id="none-locked"' in lifted.text

    usable = send_form(installer, "/claims/new", "/claims/new/code", {"rma_code": "SILV-0006"})
    assert usable.status_code == 200 and 'id="claim-form"' in usable.text


def test_staff_see_the_runs_the_waiting_and_the_quarantined_files(api):
    waiting = api.folder / "inbox" / "D-001"
    waiting.mkdir(parents=True)
    (waiting / "<b>tonight<b>.csv").write_text("claim_ref\n")
    quarantine = api.folder / "quarantine" / "D-001"
    quarantine.mkdir(parents=True)
    (quarantine / "broken.xlsx").write_bytes(b"not a workbook")
    (quarantine / "broken.xlsx.error.txt").write_text("UNREADABLE_FILE: not a workbook\n")
    staff = staff_signed_in(api, "D-002", "ops@ops.example")
    page = staff.get("/staff")
    assert page.status_code == 200
    for shown in (page, staff.get("/staff/codes"), staff.get("/staff/lockouts")):
        assert shown.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "<script" not in shown.text and "style=" not in shown.text
    html = page.text
    assert 'id="no-runs"' in html or 'id="runs"' in html
    assert re.search(r'id="waiting-count">1 file\(s\)', html)
    assert "&lt;b&gt;tonight&lt;b&gt;.csv" in html and "<b>tonight" not in html
    assert re.search(r'id="quarantined-count">1 item\(s\)', html)
    assert "broken.xlsx" in html and "UNREADABLE_FILE: not a workbook" in html
