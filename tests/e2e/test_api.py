"""The HTTP API of SPEC §9, call by call, through the application of ``rma web`` in-process:
401 without a valid token, 404 across accounts (never 403), 413 before and while a body is
read, 415, 400, 429, the lock-out through GET /api/v1/codes/{code}, security headers on
every answer. Postings are real Prefect flow runs; the posting path runs on PostgreSQL too."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from rma.adapters.db import tables as t
from rma.adapters.db.checks import checks
from rma.entrypoints.web.security import CONTENT_SECURITY_POLICY
from rma.service.identity import revoke_token
from tests.e2e.api_support import Api, claims_csv, running_api
from tests.factories import valid_claim, write_xlsx


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One application for the calls that cannot disturb each other (SQLite)."""
    folder = tmp_path_factory.mktemp("api")
    with running_api(f"sqlite:///{folder / 'claims.db'}", folder) as running:
        yield running


def error_of(response) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return body["error"]


# ----------------------------------------------------------------------------- 401


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer rma_not-a-token"}, {"Authorization": "Basic dXNlcjpwdw=="},
    {"Authorization": "Bearer "}])
def test_every_call_without_a_valid_token_is_401_in_the_one_error_shape(api, headers):
    for method, path in (("get", "/api/v1/batches/B-1"), ("get", "/api/v1/claims"),
                         ("get", "/api/v1/codes/GOOD-0001"),
                         ("get", "/api/v1/batches/B-1/rejections.csv")):
        response = api.client.request(method, path, headers=headers)
        assert response.status_code == 401, (path, response.text)
        assert error_of(response)["code"] == "UNAUTHORIZED"
        assert response.headers["www-authenticate"] == "Bearer"
    response = api.client.post("/api/v1/batches", files={"file": ("a.csv", b"x")},
                               headers=headers)
    assert response.status_code == 401


def test_a_revoked_token_opens_nothing(api):
    from rma.service.identity import create_token

    token = create_token(api.engine, "D-001", "short-lived")
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/v1/claims", headers=headers).status_code == 200
    revoke_token(api.engine, "D-001", "short-lived")
    assert api.client.get("/api/v1/claims", headers=headers).status_code == 401


# ----------------------------------------------------------------------------- checks


def test_a_check_answers_200_with_the_checked_batch_and_it_reads_back_with_its_reports(api):
    data = claims_csv(api.folder, valid_claim(claim_ref="CHK-1"),
                      valid_claim(claim_ref="CHK-2", recipient_country="Atlantis"))
    response = api.upload("D-001", data, check=True)
    assert response.status_code == 200, response.text
    batch = response.json()
    assert batch["status"] == "checked" and batch["account_id"] == "D-001"
    assert (batch["claims_accepted"], batch["claims_rejected"]) == (1, 1)
    assert [r["code"] for r in batch["rejections"]] == ["INVALID_COUNTRY"]
    assert batch["claim_ids"] == [] and batch["source"] == "api:claims.csv"

    again = api.client.get(f"/api/v1/batches/{batch['batch_id']}", headers=api.auth("D-001"))
    assert again.status_code == 200 and again.json() == batch
    report = api.client.get(f"/api/v1/batches/{batch['batch_id']}/rejections.csv",
                            headers=api.auth("D-001"))
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(report.text)))
    assert [(line["claim_ref"], line["code"]) for line in lines] == [("CHK-2", "INVALID_COUNTRY")]
    xlsx = api.client.get(f"/api/v1/batches/{batch['batch_id']}/rejections.xlsx",
                          headers=api.auth("D-001"))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    with api.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.claims)
                            .where(t.claims.c.claim_ref.in_(["CHK-1", "CHK-2"]))).scalar_one() == 0


def test_another_accounts_batch_report_and_claims_are_404_exactly_as_unknown_ones(api):
    batch = api.upload("D-001", claims_csv(api.folder, valid_claim(recipient_email="x"),
                                           name="other.csv"), check=True).json()
    unknown = api.client.get("/api/v1/batches/B-doesnotexist", headers=api.auth("D-002"))
    for path in (f"/api/v1/batches/{batch['batch_id']}",
                 f"/api/v1/batches/{batch['batch_id']}/rejections.xlsx",
                 f"/api/v1/batches/{batch['batch_id']}/rejections.csv"):
        response = api.client.get(path, headers=api.auth("D-002"))
        assert response.status_code == 404, path
        assert response.json() == unknown.json() == {
            "error": {"code": "NOT_FOUND", "message": "Not found."}}
        assert api.client.get(path, headers=api.auth("D-001")).status_code == 200


def test_an_uploaded_name_with_a_path_is_kept_under_its_base_name_in_the_accounts_folder(api):
    batch = api.upload("D-001", claims_csv(api.folder, name="named.csv"),
                       name="../../x.csv", check=True).json()
    assert batch["source"] == "api:x.csv"
    with api.engine.connect() as conn:
        kept = Path(conn.execute(sa.select(checks.c.file)
                                 .where(checks.c.batch_id == batch["batch_id"])).scalar_one())
    assert kept == api.folder / "uploads" / "D-001" / "x.csv" and kept.is_file()
    assert not (api.folder / "x.csv").exists()


# ----------------------------------------------------------------------------- 400, 413, 415


def test_a_file_the_pipeline_does_not_take_is_415_and_a_request_that_is_not_multipart_too(api):
    response = api.upload("D-001", b"PK\x03\x04 whatever", name="claims.ods")
    assert response.status_code == 415 and error_of(response)["code"] == "UNSUPPORTED_FORMAT"
    assert "claims.ods" in error_of(response)["message"]
    response = api.client.post("/api/v1/batches", json={"file": "x"}, headers=api.auth("D-001"))
    assert response.status_code == 415
    assert error_of(response)["code"] == "UNSUPPORTED_MEDIA_TYPE"
    response = api.client.post("/api/v1/claims", content=b"claim_ref: X",
                               headers={**api.auth("D-001"), "content-type": "text/plain"})
    assert response.status_code == 415


def test_a_file_that_cannot_be_read_or_a_request_without_a_file_is_400(api):
    response = api.upload("D-001", b"just,some\nwords,here\n", name="noheader.csv", check=True)
    assert response.status_code == 400 and error_of(response)["code"] == "NO_HEADER"
    response = api.client.post("/api/v1/batches", files={"other": ("a.csv", b"x")},
                               headers=api.auth("D-001"))
    assert response.status_code == 400 and error_of(response)["code"] == "BAD_REQUEST"
    assert "file" in error_of(response)["message"]
    response = api.client.post("/api/v1/claims", json={"serial_numbers": "SN1"},
                               headers=api.auth("D-001"))
    assert response.status_code == 400 and "serial_numbers" in error_of(response)["message"]
    response = api.client.post("/api/v1/claims", content=b"{not json",
                               headers={**api.auth("D-001"), "content-type": "application/json"})
    assert response.status_code == 400


@pytest.fixture
def small_api(tmp_path: Path) -> Iterator[Api]:
    """An application that takes files of at most 2000 bytes and 3 uploads an hour."""
    with running_api(f"sqlite:///{tmp_path / 'claims.db'}", tmp_path,
                     RMA_MAX_FILE_BYTES="2000", RMA_MAX_BODY_BYTES="1000",
                     RMA_RATE_UPLOADS="3/1h", RMA_RATE_CODE_LOOKUPS="2/1m") as running:
        yield running


def test_413_before_reading_a_body_that_says_it_is_too_large(small_api):
    response = small_api.client.post(
        "/api/v1/batches", content=b"x" * 70_000,
        headers={**small_api.auth("D-001"), "content-type": "multipart/form-data; boundary=b"})
    assert response.status_code == 413 and error_of(response)["code"] == "TOO_LARGE"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    response = small_api.client.post("/api/v1/claims", json={"notes": "n" * 2000},
                                     headers=small_api.auth("D-001"))
    assert response.status_code == 413
    # the length it says is enough: not a byte of it is read (here only a few would come)
    response = small_api.client.post(
        "/api/v1/batches", content=b"--b--\r\n",
        headers={**small_api.auth("D-001"), "content-length": "10000000",
                 "content-type": "multipart/form-data; boundary=b"})
    assert response.status_code == 413 and error_of(response)["code"] == "TOO_LARGE"


def test_413_while_streaming_a_body_that_did_not_say_its_length(small_api):
    def chunks() -> Iterator[bytes]:
        yield b"--b\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\n"
        for _ in range(100):
            yield b"x" * 1000  # 100 kB: past the limit and the room multipart takes

    response = small_api.client.post(
        "/api/v1/batches", content=chunks(),
        headers={**small_api.auth("D-001"), "content-type": "multipart/form-data; boundary=b"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413 and error_of(response)["code"] == "TOO_LARGE"


def test_a_file_over_the_pipelines_limit_is_413_too_large_from_the_reader(small_api):
    response = small_api.upload("D-001", b"claim_ref,serial_number\n" + b"C,SN123456\n" * 300)
    assert response.status_code == 413 and error_of(response)["code"] == "TOO_LARGE"
    assert "2,000" in error_of(response)["message"] or "2000" in error_of(response)["message"]


def test_uploads_over_the_rate_are_429_with_retry_after(small_api):
    data = claims_csv(small_api.folder)
    for _ in range(3):
        assert small_api.upload("D-001", data, check=True).status_code == 200
    response = small_api.upload("D-001", data, check=True)
    assert response.status_code == 429 and error_of(response)["code"] == "RATE_LIMITED"
    assert 0 < int(response.headers["retry-after"]) <= 3600
    # the limit is the account's: another account still sends
    assert small_api.upload("D-002", data, check=True).status_code == 200


def test_code_look_ups_over_the_rate_are_429(small_api):
    for _ in range(2):
        assert small_api.client.get("/api/v1/codes/GOOD-0001",
                                    headers=small_api.auth("D-001")).status_code == 200
    response = small_api.client.get("/api/v1/codes/GOOD-0001", headers=small_api.auth("D-001"))
    assert response.status_code == 429 and error_of(response)["code"] == "RATE_LIMITED"


# ----------------------------------------------------------------------------- codes


def test_a_code_of_the_account_shows_what_customer_service_registered(api):
    response = api.client.get("/api/v1/codes/good 0001", headers=api.auth("D-001"))
    assert response.status_code == 200, response.text
    code = response.json()
    assert (code["code"], code["account_id"], code["usable"], code["reason"]) == \
        ("GOOD-0001", "D-001", True, None)
    assert code["prefill"] == {"recipient_city": "Munich", "site_address": "CS Site 1"}
    assert code["serial_numbers"] == []
    expired = api.client.get("/api/v1/codes/OLD0-0002", headers=api.auth("D-001")).json()
    assert expired["usable"] is False and expired["reason"]["code"] == "CODE_EXPIRED"


@pytest.fixture
def lockable(tmp_path: Path) -> Iterator[Api]:
    with running_api(f"sqlite:///{tmp_path / 'claims.db'}", tmp_path) as running:
        yield running


def test_another_accounts_code_is_the_404_of_an_unknown_one_and_five_lock_the_account(
        lockable):
    api = lockable
    unknown = api.client.get("/api/v1/codes/NOPE-0000", headers=api.auth("I-SILVER"))
    foreign = api.client.get("/api/v1/codes/GOOD-0001", headers=api.auth("I-SILVER"))
    assert unknown.status_code == foreign.status_code == 404
    assert unknown.json() == foreign.json() == {
        "error": {"code": "NOT_FOUND", "message": "Not found."}}
    for n in range(3):  # five CODE_INVALID attempts in all
        assert api.client.get(f"/api/v1/codes/GUESS-{n}",
                              headers=api.auth("I-SILVER")).status_code == 404
    locked = api.client.get("/api/v1/codes/SILV-0006", headers=api.auth("I-SILVER"))
    assert locked.status_code == 429 and error_of(locked)["code"] == "CODE_LOCKED"
    assert "rma codes unlock" not in error_of(locked)["message"]  # words for the partner
    with api.engine.connect() as conn:
        outcomes = conn.execute(sa.select(t.code_attempts.c.outcome).where(
            t.code_attempts.c.account_id == "I-SILVER")).scalars().all()
    assert outcomes.count("CODE_INVALID") == 5 and outcomes.count("CODE_LOCKED") == 1
    # and a claim of the account that gives a valid code is CODE_LOCKED too
    batch = api.upload("I-SILVER", claims_csv(api.folder, valid_claim(rma_code="SILV-0006")),
                       check=True).json()
    assert [r["code"] for r in batch["rejections"]] == ["CODE_LOCKED"]
    # another account is not touched
    assert api.client.get("/api/v1/codes/GOOD-0001",
                          headers=api.auth("D-001")).status_code == 200


# ----------------------------------------------------------------------------- headers, docs


def test_every_answer_carries_the_security_headers(api):
    answers = [api.client.get("/api/docs"), api.client.get("/api/openapi.json"),
               api.client.get("/api/v1/claims", headers=api.auth("D-001")),
               api.client.get("/api/v1/claims"), api.client.get("/api/v1/nowhere"),
               api.client.delete("/api/v1/claims", headers=api.auth("D-001"))]
    assert [a.status_code for a in answers] == [200, 200, 200, 401, 404, 405]
    for answer in answers:
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert error_of(answers[4])["code"] == "NOT_FOUND"
    assert error_of(answers[5])["code"] == "METHOD_NOT_ALLOWED"


def test_the_docs_page_runs_swagger_ui_from_this_site_without_inline_script(api):
    page = api.client.get("/api/docs").text
    assert "<script>" not in page and "cdn" not in page.lower()
    for src in ("/api/docs/assets/swagger-ui-bundle.js", "/static/api-docs.js",
                "/api/docs/assets/swagger-ui.css"):
        assert src in page
        assert api.client.get(src).status_code == 200
    schema = api.client.get("/api/openapi.json").json()
    assert {"/api/v1/batches", "/api/v1/batches/{batch_id}",
            "/api/v1/batches/{batch_id}/rejections.xlsx",
            "/api/v1/batches/{batch_id}/rejections.csv", "/api/v1/claims",
            "/api/v1/codes/{code}"} == set(schema["paths"])
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


# ----------------------------------------------------------------------------- postings


@pytest.fixture
def posting(db_url: str, tmp_path: Path, prefect_api: str) -> Iterator[Api]:
    with running_api(db_url, tmp_path) as running:
        yield running


@pytest.mark.prefect
def test_a_posting_is_201_a_flow_run_and_reads_back_and_the_check_before_made_no_duplicate(
        posting):
    api = posting
    rows = [valid_claim(claim_ref="P-1"), valid_claim(claim_ref="P-2", recipient_email="bad")]
    data = write_xlsx(api.folder / "batch.xlsx", rows).read_bytes()
    assert api.upload("D-001", data, name="batch.xlsx", check=True).status_code == 200
    response = api.upload("D-001", data, name="batch.xlsx")
    assert response.status_code == 201, response.text
    batch = response.json()
    assert batch["status"] == "posted" and batch["error"] is None
    assert (batch["claims_accepted"], batch["claims_rejected"]) == (1, 1)
    assert [r["code"] for r in batch["rejections"]] == ["INVALID_EMAIL"]

    read = api.client.get(f"/api/v1/batches/{batch['batch_id']}", headers=api.auth("D-001"))
    assert read.json() == {**batch, "reports": {k: str(Path(v).resolve())
                                                for k, v in batch["reports"].items()}}
    report = api.client.get(f"/api/v1/batches/{batch['batch_id']}/rejections.csv",
                            headers=api.auth("D-001"))
    assert "INVALID_EMAIL" in report.text
    claims = api.client.get("/api/v1/claims", headers=api.auth("D-001")).json()["claims"]
    assert [(c["claim_ref"], c["batch_id"]) for c in claims] == [("P-1", batch["batch_id"])]
    assert api.client.get("/api/v1/claims", headers=api.auth("D-002")).json() == {"claims": []}
    for path in (f"/api/v1/batches/{batch['batch_id']}",
                 f"/api/v1/batches/{batch['batch_id']}/rejections.csv"):
        assert api.client.get(path, headers=api.auth("D-002")).status_code == 404
    assert (api.folder / "archive").is_dir()  # the file moved once posted
    assert list((api.folder / "uploads" / "D-001").iterdir()) != []  # the check's file stays
    # the same content again: a duplicate of the account's own batch, named
    duplicate = api.upload("D-001", data, name="batch.xlsx")
    assert duplicate.status_code == 200 and duplicate.json()["status"] == "duplicate"
    assert duplicate.json()["batch_id"] == batch["batch_id"]
    # sent by another account: a duplicate too, but its batch is not named
    other = api.upload("D-002", data, name="batch.xlsx").json()
    assert other["status"] == "duplicate" and other["batch_id"] is None
    with api.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.batches)).scalar_one() == 1


@pytest.mark.prefect
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_one_claim_as_json_is_a_batch_of_one_with_its_serial_numbers_and_prefill(posting):
    api = posting
    claim = {k: v for k, v in valid_claim(claim_ref="JSON-1", rma_code="GOOD-0001",
                                          recipient_city=None, site_address=None).items()
             if k != "serial_number" and v is not None}
    claim["serial_numbers"] = ["SNJSON0001", "snjson0002"]
    response = api.client.post("/api/v1/claims", json=claim, headers=api.auth("D-001"))
    assert response.status_code == 201, response.text
    batch = response.json()
    assert batch["status"] == "posted" and batch["claims_accepted"] == 1
    [posted] = api.client.get("/api/v1/claims", params={"serial_number": "snjson0002"},
                              headers=api.auth("D-001")).json()["claims"]
    assert posted["serial_numbers"] == ["SNJSON0001", "SNJSON0002"]
    assert (posted["recipient_city"], posted["site_address"]) == ("Munich", "CS Site 1")
    assert posted["rma_code"] == "GOOD0001"
    for params in ({"claim_ref": "JSON-1"}, {"status": "submitted"}):
        found = api.client.get("/api/v1/claims", params=params, headers=api.auth("D-001"))
        assert [c["claim_ref"] for c in found.json()["claims"]] == ["JSON-1"]
    assert api.client.get("/api/v1/claims", params={"claim_ref": "NONE"},
                          headers=api.auth("D-001")).json() == {"claims": []}
    # the same claim sent again (a client's retry) posts nothing twice
    again = api.client.post("/api/v1/claims", json=claim, headers=api.auth("D-001"))
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    kept = list((api.folder / "archive").rglob("claim-*.csv"))
    assert len(kept) == 2 and "SNJSON0001" in kept[0].read_text(encoding="utf-8")
    assert json.loads(json.dumps(batch)) == batch
