"""Two real `rma ingest` processes racing on PostgreSQL (SPEC §5): one SN and one RMA code are
claimed by both files at once; the database lets exactly one of them have it."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from rma.adapters.db.codes import normalise_code
from rma.adapters.db.tables import claim_lines, claims, rma_codes
from tests.e2e.conftest import RMA
from tests.factories import valid_claim, write_csv, write_xlsx

pytestmark = [pytest.mark.postgres, pytest.mark.prefect]

ROUNDS = 2


def _start(path: Path, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([RMA, "ingest", str(path), "--account", "D-001", "--json"],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _finish(process: subprocess.Popen[str]) -> dict:
    try:
        out, err = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"rma ingest did not finish in time:\n{err}")
    assert process.returncode == 0, err
    document = json.loads(out)
    assert len(document["batches"]) == 1, document
    batch = document["batches"][0]
    assert batch["status"] == "posted", batch
    return batch


def _code_for_round(number: int, cli) -> str:
    """GOOD-0001 from the reference data first, then a code Customer Service issues now."""
    if number == 0:
        return "GOOD-0001"
    run = cli("codes", "issue", "--account", "D-001", "--recipient-city", "Munich")
    assert run.code == 0, run.err
    return run.out.strip()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_concurrent_ingest_processes_give_a_shared_sn_and_code_to_exactly_one_claim(
        cli, workdir, db_url, prefect_api, tmp_path_factory):
    env = {
        **os.environ,
        "RMA_DATABASE_URL": db_url,
        "PREFECT_API_URL": prefect_api,
        "PREFECT_HOME": str(tmp_path_factory.mktemp("prefect-home")),
    }
    engine = sa.create_engine(db_url)
    started = time.monotonic()
    try:
        for number in range(ROUNDS):
            shared = f"SNSHARED{number + 1:02d}"
            code = _code_for_round(number, cli)
            key = normalise_code(code)
            distinct = {
                "A": [f"SNRACE{number}A1", f"SNRACE{number}A2"],
                "B": [f"SNRACE{number}B1", f"SNRACE{number}B2"],
            }
            rows = {
                side: [
                    valid_claim(claim_ref=f"R{number}-{side}-SHARED", serial_number=shared,
                                rma_code=code, recipient_city="Munich",
                                fault_description=f"Race {number}: unit fails ({side})"),
                    *(valid_claim(claim_ref=f"R{number}-{side}-{i}", serial_number=sn)
                      for i, sn in enumerate(distinct[side])),
                ]
                for side in ("A", "B")
            }
            file_a = write_xlsx(workdir / f"race{number}-a.xlsx", rows["A"])
            file_b = write_csv(workdir / f"race{number}-b.csv", rows["B"])

            processes = [_start(file_a, env, workdir), _start(file_b, env, workdir)]
            batches = dict(zip("AB", (_finish(p) for p in processes), strict=True))

            winners = [s for s, b in batches.items() if b["claims_accepted"] == 3]
            losers = [s for s, b in batches.items() if b["claims_accepted"] == 2]
            assert len(winners) == 1 and len(losers) == 1, batches
            winner, loser = batches[winners[0]], batches[losers[0]]
            assert winner["claims_rejected"] == 0 and winner["rejections"] == []
            assert loser["claims_rejected"] == 1
            assert {r["serial_number"] for r in loser["rejections"]} == {shared}
            assert {r["code"] for r in loser["rejections"]} == {"SN_OPEN_CLAIM", "CODE_USED"}

            with engine.connect() as conn:
                open_lines = conn.execute(
                    sa.select(claim_lines.c.claim_id)
                    .where(claim_lines.c.serial_number == shared, claim_lines.c.is_open)
                ).scalars().all()
                assert len(open_lines) == 1
                assert open_lines[0] in winner["claim_ids"]
                redeemed = conn.execute(
                    sa.select(rma_codes.c.status, rma_codes.c.redeemed_claim_id)
                    .where(rma_codes.c.code_key == key)
                ).one()
                assert redeemed.status == "redeemed"
                assert redeemed.redeemed_claim_id == open_lines[0]
                with_code = conn.execute(
                    sa.select(sa.func.count()).select_from(claims)
                    .where(claims.c.rma_code == key)
                ).scalar_one()
                assert with_code == 1
                everyone = distinct["A"] + distinct["B"]
                posted = conn.execute(
                    sa.select(claim_lines.c.serial_number, sa.func.count())
                    .where(claim_lines.c.serial_number.in_(everyone), claim_lines.c.is_open)
                    .group_by(claim_lines.c.serial_number)
                ).all()
                assert dict(posted) == dict.fromkeys(everyone, 1)
    finally:
        engine.dispose()
    assert time.monotonic() - started < 120, "the race took far longer than it should"
