"""The real `rma web` process on a free port, called with httpx as a partner's system would:
a token made with `rma tokens create --json`, a batch posted (a Prefect flow run on the test
session's API), read back, the claims listed; then SIGTERM stops the server gracefully."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import RMA, run_subprocess, seed_database, stop_server
from tests.factories import valid_claim, write_csv
from tests.smtpserver import free_port

STARTUP_SECONDS = 90


@pytest.fixture
def web(tmp_path: Path, prefect_api: str) -> Iterator[tuple[str, dict[str, str]]]:
    url = f"sqlite:///{tmp_path / 'claims.db'}"
    seed_database(url, tmp_path)
    (tmp_path / "inbox").mkdir()
    env = {"RMA_DATABASE_URL": url, "RMA_INBOX": str(tmp_path / "inbox"),
           "PREFECT_API_URL": prefect_api}
    port = free_port()
    process = subprocess.Popen([RMA, "web", "--port", str(port)], cwd=tmp_path,
                               env={**os.environ, **env}, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                httpx.get(base + "/api/docs", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "rma web did not start"
                time.sleep(0.2)
        yield base, env
    finally:
        stop_server(process, timeout=30)
    # uvicorn shuts down gracefully, then ends by the signal it was sent (exit status 143)
    output = process.stdout.read() if process.stdout else ""
    if process.stdout:
        process.stdout.close()
    assert process.returncode == -signal.SIGTERM, output
    assert "Finished server process" in output and "Traceback" not in output, output


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
