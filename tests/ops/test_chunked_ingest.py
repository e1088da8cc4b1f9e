"""The chunked path of very large files, end to end through the Prefect flows: a file above
RMA_CHUNK_ROWS is read and checked chunk by chunk on a real Dask cluster (a LocalCluster of
two worker processes, reached through RMA_DASK_ADDRESS), then posted in one transaction —
with the same outcome, to the last rejection and report cell, as the single-process path
gives on a fresh database of its own."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa

import flows.ingest as flows_module
from rma.adapters.db import tables as t
from rma.adapters.db.engine import make_engine, upgrade
from rma.adapters.db.repository import ClaimsRepository
from rma.config import load_settings
from rma.service.batch import ingest_file
from rma.service.origin import Origin
from tests.e2e.conftest import seed_database
from tests.factories import generate_rows, valid_claim, write_csv, write_xlsx
from tests.ops.conftest import prefect_run_log

pytestmark = [pytest.mark.ops, pytest.mark.prefect]

CHUNK_ROWS = 400
ROWS = 1500
HEADERS = [*generate_rows(1)[0], "Internal", ""]


@pytest.fixture(scope="module")
def dask_address() -> Iterator[str]:
    """A Dask cluster of its own: two worker processes on loopback, no dashboard."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, host="127.0.0.1") as cluster, \
            Client(cluster) as client:
        client.wait_for_workers(2, timeout=60)
        yield cluster.scheduler_address


def chunk_tasks_run(address: str) -> dict[str, int]:
    """How many tasks of each name the cluster's workers have computed (entered "memory")."""
    from distributed import Client

    with Client(address) as client:
        return client.run_on_scheduler(lambda dask_scheduler: {
            name: prefix.state_counts.get("memory", 0)
            for name, prefix in dask_scheduler.task_prefixes.items()})


def fresh_database(url: str, folder: Path) -> None:
    """Migrated, with the e2e reference accounts and codes, and one earlier batch (an open
    claim on SNOLD00001, claim_ref C-OLD) for SN_OPEN_CLAIM and DUPLICATE_CLAIM_REF."""
    folder.mkdir()
    seed_database(url, folder)
    engine = make_engine(url)
    earlier = write_csv(folder / "earlier.csv",
                        [valid_claim(claim_ref="C-OLD", serial_number="SNOLD00001")])
    batch = ingest_file(earlier, Origin("D-001", str(earlier)), engine, load_settings(),
                        folder / "reports")
    engine.dispose()
    assert batch.claims_accepted == 1


def big_rows() -> list[dict[str, Any]]:
    """~1500 claims over 4 chunks of 400, with what crosses chunk borders: a claim whose rows
    straddle one, an SN in two chunks, five wrong codes then a locked one, blank rows,
    quoted line breaks, stray quotes, an unknown column and a blank-header column."""
    rows = generate_rows(ROWS, bad_ratio=0.1, seed=11)
    for row in rows:
        row.update({"Internal": None, "": None})
    rows[3]["serial_number"] = rows[1203]["serial_number"]          # duplicate SN
    for n in range(396, 402):                                       # one claim, two chunks
        rows[n]["claim_ref"] = "C-SPAN"
    rows[401]["recipient_email"] = "broken@"
    for n, row in enumerate(rows):
        if n % 97 == 5:
            row["notes"] = 'first line\r\nsecond, with "quotes"'
        if n % 89 == 7:
            row["product_model"] = 'Display 7" cracked'
        if n % 50 == 0:
            row["Internal"] = f"ticket {n}"
    rows[20]["rma_code"] = "GOOD-0001"                              # valid: prefill, redeemed
    for k, n in enumerate((50, 300, 600, 800, 1000)):               # 5 wrong codes ...
        rows[n]["rma_code"] = f"NOPE-000{k}"
    rows[1300].update(rma_code="ONLY-0005", serial_number="SNCOVERED1")  # ... then locked
    rows[700]["serial_number"] = "SNOLD00001"                       # SN_OPEN_CLAIM
    rows[710]["claim_ref"] = "C-OLD"                                # DUPLICATE_CLAIM_REF
    rows[1450][""] = "data under a blank header, last chunk only"
    blank = dict.fromkeys(rows[0])
    return [*rows[:150], blank, *rows[150:900], blank, blank, *rows[900:]]


def outcome(url: str, batch: dict[str, Any]) -> dict[str, Any]:
    """Everything a batch left behind, without what differs by nature (batch id, paths,
    timestamps)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            claims = ClaimsRepository(conn).list_claims()
            issues = conn.execute(sa.select(t.batch_issues).where(
                t.batch_issues.c.batch_id == batch["batch_id"]).order_by(
                t.batch_issues.c.id)).mappings().all()
            codes = conn.execute(sa.select(t.rma_codes.c.status,
                                           t.rma_codes.c.redeemed_claim_id)).all()
            attempts = conn.execute(sa.select(t.code_attempts.c.account_id,
                                              t.code_attempts.c.outcome)
                                    .order_by(t.code_attempts.c.id)).all()
    finally:
        engine.dispose()
    report_csv = Path(batch["reports"]["csv"]).read_text(encoding="utf-8-sig")
    workbook = openpyxl.load_workbook(batch["reports"]["xlsx"])
    return {
        "result": {k: v for k, v in batch.items() if k not in ("batch_id", "reports")},
        "claims": [{k: v for k, v in c.items() if k not in ("batch_id", "submitted_at")}
                   for c in claims],
        "issues": [{k: v for k, v in i.items() if k not in ("id", "batch_id")}
                   for i in issues],
        "codes": sorted(codes, key=str),
        "attempts": attempts,
        "report_csv": list(csv.reader(io.StringIO(report_csv))),
        "report_xlsx": {ws.title: [[_no_batch_id(c.value, batch) for c in row]
                                   for row in ws.iter_rows()] for ws in workbook.worksheets},
        "report_comments": [(c.coordinate, c.comment.text) for ws in workbook.worksheets
                            for row in ws.iter_rows() for c in row if c.comment],
    }


def _no_batch_id(value: object, batch: dict[str, Any]) -> object:
    return "<batch id>" if value == batch["batch_id"] else value


def ingest(path: Path, url: str, reports: Path) -> dict[str, Any]:
    [batch] = flows_module.ingest_many([str(path)], ["D-001"], url, str(reports))
    return batch


@contextmanager
def batch_lines() -> Iterator[list[str]]:
    """The flows' ``event=batch`` log lines while the block runs."""
    with prefect_run_log() as lines:
        yield lines
    lines[:] = [line for line in lines if line.startswith("event=batch ")]


def test_a_large_csv_checked_in_chunks_on_a_dask_cluster_posts_what_one_process_posts(
        prefect_api, dask_address, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "huge.csv", big_rows(), headers=HEADERS,
                     title_rows=[["Claims export, all regions"], []])
    chunked_db = f"sqlite:///{tmp_path / 'chunked.db'}"
    single_db = f"sqlite:///{tmp_path / 'single.db'}"
    fresh_database(chunked_db, tmp_path / "chunked")
    fresh_database(single_db, tmp_path / "single")
    before = chunk_tasks_run(dask_address).get("check_csv_chunk", 0)

    monkeypatch.setenv("RMA_CHUNK_ROWS", str(CHUNK_ROWS))
    monkeypatch.setenv("RMA_DASK_ADDRESS", dask_address)
    chunked = ingest(path, chunked_db, tmp_path / "chunked" / "reports")
    ran_on_cluster = chunk_tasks_run(dask_address).get("check_csv_chunk", 0) - before
    monkeypatch.setenv("RMA_CHUNK_ROWS", "0")                     # the chunked path is off
    monkeypatch.delenv("RMA_DASK_ADDRESS")
    single = ingest(path, single_db, tmp_path / "single" / "reports")

    assert ran_on_cluster == 4                                    # 1503 records / 400
    assert chunked["status"] == single["status"] == "posted"
    got, expected = outcome(chunked_db, chunked), outcome(single_db, single)
    assert got == expected
    # the file really exercises what crosses chunk borders
    codes = {(r["row"], r["code"]) for r in expected["result"]["rejections"]}
    assert {"DUPLICATE_SN_IN_BATCH", "CODE_INVALID", "CODE_LOCKED", "SN_OPEN_CLAIM",
            "DUPLICATE_CLAIM_REF", "INVALID_EMAIL", "INVALID_SERIAL_NUMBER",
            "INVALID_DATE", "MISSING_FIELD", "INVALID_COUNTRY"} <= {c for _, c in codes}
    assert sum(c == "CODE_INVALID" for _, c in codes) == 5
    assert {w["code"] for w in expected["result"]["warnings"]} >= {"UNKNOWN_COLUMN",
                                                                   "PREFILL_CONFLICT"}
    assert expected["result"]["claims_accepted"] > 1000
    assert ("redeemed", expected["claims"][0]["claim_id"]) in expected["codes"] or any(
        status == "redeemed" and cid for status, cid in expected["codes"])


def test_a_large_xlsx_is_read_once_and_checked_in_chunks_with_the_same_outcome(
        prefect_api, tmp_path, monkeypatch):
    rows = generate_rows(700, bad_ratio=0.15, seed=12)
    for n in range(0, 700, 37):
        rows[n]["recipient_postcode"] = 1234                  # a number: VALUE_AS_TEXT
    rows[250]["serial_number"] = rows[650]["serial_number"]
    path = write_xlsx(tmp_path / "huge.xlsx", rows)
    chunked_db = f"sqlite:///{tmp_path / 'chunked.db'}"
    single_db = f"sqlite:///{tmp_path / 'single.db'}"
    fresh_database(chunked_db, tmp_path / "chunked")
    fresh_database(single_db, tmp_path / "single")

    monkeypatch.setenv("RMA_CHUNK_ROWS", "250")               # the default thread runner
    with batch_lines() as lines:
        chunked = ingest(path, chunked_db, tmp_path / "chunked" / "reports")
    monkeypatch.setenv("RMA_CHUNK_ROWS", "0")
    single = ingest(path, single_db, tmp_path / "single" / "reports")

    [line] = lines
    assert " chunks=3" in line                                # 700 rows in frames of 250

    got, expected = outcome(chunked_db, chunked), outcome(single_db, single)
    assert got == expected
    assert "VALUE_AS_TEXT" in {w["code"] for w in expected["result"]["warnings"]}


@pytest.mark.parametrize("limits, code", [
    ({"RMA_MAX_ROWS": "100"}, "TOO_LARGE"),
    ({"RMA_MAX_CELL_CHARS": "30"}, "TOO_LARGE"),
], ids=["rows", "cell"])
def test_a_batch_error_found_in_chunks_is_the_error_a_normal_run_gives(
        prefect_api, tmp_path, monkeypatch, limits, code):
    path = write_csv(tmp_path / "big.csv", generate_rows(300, seed=13))
    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(url)
    for name, value in limits.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RMA_CHUNK_ROWS", "100")
    with batch_lines() as lines:
        chunked = ingest(path, url, tmp_path / "reports")
    assert [" chunks=0" in line for line in lines] == [True]  # the chunked flow said it
    monkeypatch.setenv("RMA_CHUNK_ROWS", "0")
    single = ingest(path, url, tmp_path / "reports")
    assert chunked["status"] == single["status"] == "failed"
    assert chunked["error"] == single["error"]
    assert chunked["error"]["code"] == code
