"""The sample inbox, run exactly as the Quick start runs it (``rma demo``): in a folder of its
own, so no test depends on what the working tree's ``inbox/`` holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rma.entrypoints.cli import main

pytestmark = pytest.mark.prefect


def test_the_quick_start_sample_posts_and_reports_as_documented(
        prefect_api, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RMA_DATABASE_URL", "postgresql://must-not-be-used.invalid/claims")
    assert main(["demo", "--json"]) == 0
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
    demo = tmp_path / "demo"
    assert not any((demo / "inbox").rglob("*.*"))
    assert len(list((demo / "archive").rglob("*.*"))) == 3
    assert (demo / "rma.db").is_file() and not (tmp_path / "rma.db").exists()
    [reply] = (demo / "outbox").glob("*.eml")
    assert "In-Reply-To: <sd-2001@solar-distribution.example>" in reply.read_text()


def test_the_demo_gives_the_same_answer_every_time_and_keeps_to_its_own_folder(
        prefect_api, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    counts = []
    for _ in range(2):
        assert main(["demo", "--json"]) == 0
        counts.append(sorted((b["source"], b["claims_accepted"], b["claims_rejected"])
                             for b in json.loads(capsys.readouterr().out)["batches"]))
    assert counts[0] == counts[1] and len(counts[0]) == 3
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("not the demo's")
    assert main(["demo", "--dir", "mine"]) == 2
    assert "not made by `rma demo`" in capsys.readouterr().err
    assert (tmp_path / "mine" / "keep.txt").read_text() == "not the demo's"
