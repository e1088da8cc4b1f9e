"""The real `rma web` process on a free port, called with httpx as a partner's system would:
a token made with `rma tokens create --json`, a batch posted (a Prefect flow run on the test
session's API), read back, the claims listed; then SIGTERM stops the server gracefully."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import run_subprocess
from tests.e2e.web_server import running_web
from tests.factories import valid_claim, write_csv


@pytest.fixture
def web(tmp_path: Path, prefect_api: str) -> Iterator[tuple[str, dict[str, str]]]:
    with running_web(tmp_path, prefect_api) as running:
        yield running.base, running.env


@pytest.mark.prefect
def test_a_partners_system_posts_a_batch_to_the_real_server_and_reads_it_back(web, tmp_path):
    base, env = web
    made = run_subprocess(["tokens", "create", "--account", "D-001", "--name", "erp", "--json"],
                          env, tmp_path)
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)["token"]["token"]
    headers = {"Authorization": f"Bearer {token}"}
    data = write_csv(tmp_path / "erp.csv", [valid_claim(claim_ref="ERP-1")]).read_bytes()

    with httpx.Client(base_url=base, timeout=120) as client:
        assert client.get("/api/v1/claims").status_code == 401
        posted = client.post("/api/v1/batches", files={"file": ("erp.csv", data)},
                             headers=headers)
        assert posted.status_code == 201, posted.text
        batch = posted.json()
        assert batch["status"] == "posted" and batch["claims_accepted"] == 1
        assert "script-src 'self'" in posted.headers["content-security-policy"]
        read = client.get(f"/api/v1/batches/{batch['batch_id']}", headers=headers)
        assert read.status_code == 200 and read.json()["claim_ids"] == batch["claim_ids"]
        claims = client.get("/api/v1/claims", params={"claim_ref": "ERP-1"}, headers=headers)
        assert [c["claim_id"] for c in claims.json()["claims"]] == batch["claim_ids"]
