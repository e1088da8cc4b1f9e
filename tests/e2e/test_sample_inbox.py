"""The sample inbox shipped in the repository, run exactly as the Quick start runs it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rma.cli import main

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.prefect


def test_the_quick_start_sample_posts_and_reports_as_documented(
        prefect_api, tmp_path, monkeypatch, capsys, sqlite_url):
    shutil.copytree(ROOT / "inbox", tmp_path / "inbox")
    shutil.copytree(ROOT / "sample", tmp_path / "sample")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RMA_DATABASE_URL", sqlite_url)
    for argv in (["db", "upgrade"], ["accounts", "import", "sample/accounts.csv"],
                 ["codes", "import", "sample/codes.csv"]):
        assert main(argv) == 0
    capsys.readouterr()
    assert main(["run-inbox", "--json"]) == 0
    import json

    batches = {Path(b["source"]).parent.name: b
               for b in json.loads(capsys.readouterr().out)["batches"]}
    distributor, installer = batches["D-001"], batches["I-007"]
    assert (distributor["claims_accepted"], distributor["claims_rejected"]) == (3, 4)
    assert {r["code"] for r in distributor["rejections"]} == {
        "INVALID_SERIAL_NUMBER", "INVALID_DATE", "MISSING_FIELD", "INVALID_EMAIL",
        "DUPLICATE_SN_IN_BATCH"}
    assert {w["code"] for w in distributor["warnings"]} == {"UNKNOWN_COLUMN", "VALUE_AS_TEXT"}
    assert (installer["claims_accepted"], installer["claims_rejected"]) == (1, 2)
    assert {r["code"] for r in installer["rejections"]} == {"CODE_REQUIRED", "CODE_EXPIRED"}
    form = batches["mail"]
    assert form["account_id"] == "D-001" and form["source"].endswith("(form)")
    assert (form["claims_accepted"], form["claims_rejected"]) == (1, 1)
    assert {r["code"] for r in form["rejections"]} == {"INVALID_TEXT"}
    assert {w["code"] for w in form["warnings"]} == {"IGNORED_ATTACHMENT"}
    for batch in (distributor, installer, form):
        assert Path(batch["reports"]["xlsx"]).is_file()
    assert not any((tmp_path / "inbox").rglob("*.*"))
    assert len(list((tmp_path / "archive").rglob("*.*"))) == 3
    [reply] = (tmp_path / "outbox").glob("*.eml")
    assert "In-Reply-To: <sd-2001@solar-distribution.example>" in reply.read_text()
