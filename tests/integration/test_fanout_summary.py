"""The fan-out parent's summary (rma.service.fanout.settled_results): what became of every file a
child run took, read back from the claims database and the quarantine notes, must say what
the child itself saw — posted (with claim ids, rejections, warnings, reports), duplicate,
quarantined, or still waiting after a crashed run."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from rma.adapters.db.engine import make_engine, posting_transaction, upgrade
from rma.adapters.db.reference_accounts import import_accounts
from rma.adapters.db.reference_codes import import_codes
from rma.adapters.inbox import folders, moves
from rma.config import Settings
from rma.service.batch import ingest_file
from rma.service.fanout import dispatch_plan, settled_results
from rma.service.origin import Origin
from tests.e2e.conftest import write_reference
from tests.factories import valid_claim, write_csv, write_xlsx


def _child(item: folders.WaitingFile, engine, settings: Settings, site: Path, today: dt.date):
    """What an `ingest-files` child does with one file of its group."""
    result = ingest_file(item.path, Origin(item.account_id, str(item.path)), engine,
                         settings, site / "reports")
    moves.settle(item, result.status, result.error, site / "archive", site / "quarantine",
                today)
    return result


def test_the_parent_summary_from_the_database_matches_what_the_children_saw(db_url, tmp_path):
    upgrade(db_url)
    engine = make_engine(db_url)
    accounts, codes = write_reference(tmp_path)
    with posting_transaction(engine) as conn:
        import_accounts(conn, accounts)
        import_codes(conn, codes, validity_days=90)
    settings = Settings(database_url=db_url)
    site = tmp_path / "site"
    inbox = site / "inbox"
    (inbox / "D-001").mkdir(parents=True)
    (inbox / "I-SILVER").mkdir()
    earlier = write_csv(inbox / "D-001" / "a-earlier.csv", [valid_claim()])
    mixed = write_xlsx(inbox / "D-001" / "b-mixed.xlsx", [
        valid_claim(claim_ref="M-1"),
        valid_claim(claim_ref="M-2", recipient_email="anna(at)x"),       # rejected
        valid_claim(claim_ref="M-3", recipient_postcode=1234),            # a warning
    ])
    copy_a = write_csv(inbox / "D-001" / "c-copy.csv", [valid_claim(claim_ref="K-1")])
    copy_b = inbox / "D-001" / "d-copy.csv"
    shutil.copyfile(copy_a, copy_b)
    notes = inbox / "D-001" / "e-notes.txt"
    notes.write_text("not a claim file\n", encoding="utf-8")
    crashed = write_csv(inbox / "I-SILVER" / "f-crashed.csv",
                        [valid_claim(rma_code="SILV-0006")])
    first = ingest_file(earlier, Origin("D-001", str(earlier.resolve())), engine, settings,
                        site / "reports")  # posted on an earlier night, never archived
    assert first.status == "posted"

    since = dt.datetime.now(dt.UTC)
    plan = dispatch_plan(folders.waiting_files(inbox), engine)
    assert [d.earlier_batch for d in plan] == [first.batch_id, None, None, None, None, None]
    today = since.date()
    seen = {d.item.path: _child(d.item, engine, settings, site, today)
            for d in plan if d.item.path.name != "f-crashed.csv"}
    crash = "flow run 'odd-cat' ended Crashed: Process exited with status code: -9"
    failures = {d.item.path: (crash if d.item.path.name == "f-crashed.csv" else None)
                for d in plan}

    summary = settled_results(engine, plan, failures, site / "reports", site / "quarantine",
                              since)
    by_name = {Path(r.source).name: r for r in summary}
    assert list(by_name) == ["a-earlier.csv", "b-mixed.xlsx", "c-copy.csv", "d-copy.csv",
                             "e-notes.txt", "f-crashed.csv"]

    for name in ("a-earlier.csv", "b-mixed.xlsx", "c-copy.csv", "d-copy.csv", "e-notes.txt"):
        child = seen[(inbox / ("D-001") / name).resolve()].to_json()
        parent = by_name[name].to_json()
        child_rejections = sorted((r["row"], r["column"], r["code"]) for r in
                                  child.pop("rejections"))
        parent_rejections = sorted((r["row"], r["column"], r["code"]) for r in
                                   parent.pop("rejections"))
        assert parent == child, name
        assert parent_rejections == child_rejections, name

    mixed_result = by_name["b-mixed.xlsx"]
    assert (mixed_result.status, mixed_result.claims_accepted,
            mixed_result.claims_rejected) == ("posted", 2, 1)
    assert [w["code"] for w in mixed_result.warnings] == ["VALUE_AS_TEXT"]
    assert set(mixed_result.reports) == {"xlsx", "csv"}
    assert by_name["a-earlier.csv"].status == "duplicate"
    assert {by_name["c-copy.csv"].status, by_name["d-copy.csv"].status} == {"posted",
                                                                            "duplicate"}
    assert by_name["e-notes.txt"].error["code"] == "UNSUPPORTED_FORMAT"
    lost = by_name["f-crashed.csv"]
    assert (lost.status, lost.error["code"]) == ("failed", "PROCESSING_ERROR")
    assert "Crashed" in lost.error["message"] and "stays waiting" in lost.error["message"]
    assert crashed.exists() and not mixed.exists() and not notes.exists()
    engine.dispose()


@pytest.mark.parametrize("name", ["claims.csv", "claims.2.csv"])
def test_a_quarantine_note_is_found_under_a_taken_name_but_not_from_an_earlier_night(
        tmp_path, name):
    from rma.service.fanout import CLOCK_SKEW_SECONDS, quarantine_note

    folder = tmp_path / "quarantine" / "D-001"
    folder.mkdir(parents=True)
    note = folder / f"{name}.error.txt"
    note.write_text("NO_HEADER: no header row was found\n", encoding="utf-8")
    item = folders.WaitingFile(tmp_path / "inbox" / "D-001" / "claims.csv", "D-001")
    now = dt.datetime.now(dt.UTC)
    assert quarantine_note(item, tmp_path / "quarantine", now) == \
        "NO_HEADER: no header row was found"
    later = now + dt.timedelta(seconds=CLOCK_SKEW_SECONDS + 60)
    assert quarantine_note(item, tmp_path / "quarantine", later) is None
    other = folders.WaitingFile(tmp_path / "inbox" / "D-001" / "claims.xlsx", "D-001")
    assert quarantine_note(other, tmp_path / "quarantine", now) is None
