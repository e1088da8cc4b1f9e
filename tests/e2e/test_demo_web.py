"""`rma demo --web`, the README's one command for the portal on the sample data: it runs the
demo, prints a demo user's sign-in link and serves the portal; the printed link signs in, and
the signed-in account sees the demo's batches. SIGTERM stops it gracefully."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import RMA, stop_server
from tests.smtpserver import free_port

STARTUP_SECONDS = 180
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@pytest.mark.prefect
def test_demo_web_prints_a_link_that_signs_in_to_the_portal_on_the_sample(tmp_path: Path,
                                                                          prefect_api: str):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RMA_")}
    env["PREFECT_API_URL"] = prefect_api
    process = subprocess.Popen([RMA, "demo", "--web", "--port", str(port)], cwd=tmp_path,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")),
                              daemon=True)  # the pipe drained, so uvicorn never blocks on it
    reader.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, "".join(lines)
            links = [line.strip() for line in lines if line.startswith(base + "/")]
            if links:
                try:
                    httpx.get(base + "/", timeout=2)
                    break
                except httpx.TransportError:
                    pass
            assert time.monotonic() < deadline, "rma demo --web did not start:\n" + "".join(lines)
            time.sleep(0.3)
        path = links[0][len(base):]
        with httpx.Client(base_url=base, timeout=60) as browser:
            page = browser.get(path)
            assert page.status_code == 200, page.text
            token = CSRF.search(page.text)
            assert token, page.text
            signed = browser.post(path, data={"csrf": token.group(1)}, follow_redirects=False)
            assert signed.status_code == 303, signed.text
            batches = browser.get("/batches")
            # the sample's distributor file, posted by the demo's run, on its batches page
            assert batches.status_code == 200 and "claims-2026-11.xlsx" in batches.text, \
                batches.text
    finally:
        stop_server(process)
        reader.join(timeout=10)
        process.stdout.close()
    output = "".join(lines)
    assert "The demo ran in demo/" in output, output
    assert "Traceback" not in output, output
    assert (tmp_path / "demo" / "rma.db").is_file()
