"""Rejected rows corrected on the review page (SPEC §9), in-process: a bad cell corrected and
re-checked is accepted and nothing is posted; a correction still bad stays marked; submitting
posts the corrected rows as a new batch linked to the first, whose archived file holds the
rows as corrected; the same correction submitted again is not posted twice; another
account's batch is a 404; a form without its CSRF token is refused; a ``<script>`` typed into
a cell comes back as text; a re-check of 20 corrected rows answers within its bound."""

from __future__ import annotations

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
from tests.factories import valid_claim

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
