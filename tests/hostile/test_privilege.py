"""Privilege (SPEC §2-§4): nothing in a file or an e-mail changes who it is from, their level
or a code's owner; code guessing is locked out, logged, and the lock-out lives in the
database, so a restart does not lift it."""

from __future__ import annotations

import logging
import mailbox
import os

import pytest
import sqlalchemy as sa

from rma.adapters.db import tables as t
from rma.adapters.db.engine import make_engine
from tests.e2e.conftest import run_subprocess
from tests.factories import valid_claim, write_csv
from tests.mailfactory import form_body, mail

pytestmark = pytest.mark.prefect


def _codes_by_row(batch: dict) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for item in batch["rejections"]:
        found.setdefault(item["row"], set()).add(item["code"])
    return found


def _reference(url: str) -> tuple[list, list]:
    engine = make_engine(url)
    with engine.connect() as conn:
        accounts = conn.execute(sa.select(t.accounts).order_by(t.accounts.c.account_id)).all()
        codes = conn.execute(sa.select(t.rma_codes.c.code_key, t.rma_codes.c.account_id,
                                       t.rma_codes.c.status)
                             .order_by(t.rma_codes.c.code_key)).all()
    engine.dispose()
    return accounts, codes


def test_a_file_cannot_change_its_account_its_level_or_a_codes_owner(cli, workdir, db_url):
    before = _reference(db_url)
    folder = workdir / "inbox" / "I-SILVER"
    folder.mkdir()
    rows = [
        valid_claim(claim_ref="P-1", account_id="I-GOLD"),       # 2: claims to be gold
        {**valid_claim(claim_ref="P-2"), "partner_level": "platinum",
         "kind": "distributor", "code_owner": "I-SILVER"},        # 3: level columns ignored
        valid_claim(claim_ref="P-3", rma_code="GOOD-0001", recipient_city=None),  # 4: D-001's
        valid_claim(claim_ref="P-4", rma_code="SILV-0006"),       # 5: its own code: accepted
    ]
    write_csv(folder / "claims.csv", rows,
              headers=[*rows[0], "partner_level", "kind", "code_owner"])

    run = cli("run-inbox", "--json")
    assert run.code == 0, run.err
    [batch] = run.json()["batches"]
    assert batch["account_id"] == "I-SILVER"
    assert (batch["claims_accepted"], batch["claims_rejected"]) == (1, 3)
    codes = _codes_by_row(batch)
    assert "ACCOUNT_MISMATCH" in codes[2]
    assert codes[3] == {"CODE_REQUIRED"}
    assert "CODE_INVALID" in codes[4]
    # another account's code neither fills the claim in nor says it exists
    assert any(r["column"] == "recipient_city" and r["code"] == "MISSING_FIELD"
               for r in batch["rejections"] if r["row"] == 4)
    assert {w["code"] for w in batch["warnings"]} >= {"UNKNOWN_COLUMN"}

    after_accounts, after_codes = _reference(db_url)
    assert after_accounts == before[0]  # levels, kinds and addresses untouched
    changed = {c.code_key: (c.account_id, c.status) for c in after_codes} | {}
    assert changed["GOOD0001"] == ("D-001", "issued")
    assert changed["SILV0006"] == ("I-SILVER", "redeemed")
    assert {k: v for k, v in changed.items() if k != "SILV0006"} == \
        {c.code_key: (c.account_id, c.status) for c in before[1] if c.code_key != "SILV0006"}


def test_an_email_cannot_file_for_another_account(cli, workdir):
    form = {k: str(v) for k, v in valid_claim(account_id="D-002").items() if v is not None}
    raw = mail(sender="claims@dist.example", body=form_body(form))  # registered to D-001
    mailbox.Maildir(workdir / "inbox" / "mail", create=True).add(mailbox.MaildirMessage(raw))

    run = cli("run-inbox", "--json")
    [batch] = run.json()["batches"]
    assert batch["account_id"] == "D-001"
    assert batch["claims_accepted"] == 0
    assert {r["code"] for r in batch["rejections"]} >= {"ACCOUNT_MISMATCH"}


def test_code_guessing_is_locked_out_logged_and_survives_a_restart(
        cli, workdir, db_url, caplog, prefect_api):
    folder = workdir / "inbox" / "I-SILVER"
    folder.mkdir()
    guesses = [valid_claim(claim_ref=f"G-{n}", rma_code=f"GUESS-{n:04d}") for n in range(6)]
    write_csv(folder / "guesses.csv", guesses)
    with caplog.at_level(logging.WARNING, logger="rma.security"):
        run = cli("run-inbox", "--json")
    [batch] = run.json()["batches"]
    codes = _codes_by_row(batch)
    assert [codes[row] for row in range(2, 7)] == [{"CODE_INVALID"}] * 5
    assert codes[7] == {"CODE_LOCKED"}
    security = [r.getMessage() for r in caplog.records if r.name == "rma.security"]
    assert any("I-SILVER: 5 invalid RMA code attempt(s)" in m for m in security), security
    assert any("I-SILVER is locked out" in m and "rma codes unlock I-SILVER" in m
               for m in security), security

    # a new process (a restart) still refuses the account's own, valid code
    write_csv(folder / "honest.csv", [valid_claim(claim_ref="H-1", rma_code="SILV-0006")])
    env = {"RMA_DATABASE_URL": db_url, "RMA_INBOX": str(workdir / "inbox"),
           "PREFECT_API_URL": prefect_api}
    again = run_subprocess(["ingest", str(folder / "honest.csv"), "--json"], env, workdir)
    import json

    [locked] = json.loads(again.stdout)["batches"]
    assert locked["account_id"] == "I-SILVER"
    assert {r["code"] for r in locked["rejections"]} == {"CODE_LOCKED"}

    assert cli("codes", "unlock", "I-SILVER").code == 0
    os.replace(folder / "honest.csv", folder / "honest-again.csv")
    write_csv(folder / "honest-again.csv", [valid_claim(claim_ref="H-2", rma_code="SILV-0006")])
    done = cli("run-inbox", "--json")
    [ok] = done.json()["batches"]
    assert (ok["claims_accepted"], ok["claims_rejected"]) == (1, 0)
