"""Shared by the property tests: the reference data every batch is decided against (as a
pure ``Reference`` and as a seeded SQLite database), the oracles the invariants compare
with, and a time bound per example."""

from __future__ import annotations

import csv
import datetime as dt
import faulthandler
import os
import signal
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from hypothesis import settings

from rma.adapters.db import tables as t
from rma.adapters.db.engine import make_engine, upgrade
from rma.adapters.db.reference_accounts import import_accounts
from rma.adapters.db.reference_codes import import_codes
from rma.config import Settings
from rma.domain.rules.decide import Decision, Reference
from rma.domain.vocabulary.columns import CANONICAL
from rma.domain.vocabulary.reasons import WARNINGS, Reason
from rma.service.batch import ingest_file
from rma.service.origin import Origin
from tests import rules
from tests.factories import write_csv

NOW = rules.NOW
TODAY = NOW.date()
SETTINGS = Settings()
POLICY = SETTINGS.policy(NOW)

#: Batch errors (SPEC §4, last line) plus DUPLICATE_BATCH and PROCESSING_ERROR: never about
#: one row.
BATCH_REASONS = frozenset({Reason.UNSUPPORTED_FORMAT, Reason.UNREADABLE_FILE, Reason.NO_HEADER,
                           Reason.TOO_LARGE, Reason.EMPTY_BATCH, Reason.UNKNOWN_SENDER,
                           Reason.DUPLICATE_BATCH, Reason.PROCESSING_ERROR})
#: What read_batch may raise (UNKNOWN_SENDER and DUPLICATE_BATCH are not the reader's).
READER_REASONS = frozenset({Reason.UNSUPPORTED_FORMAT, Reason.UNREADABLE_FILE,
                            Reason.NO_HEADER, Reason.TOO_LARGE, Reason.EMPTY_BATCH})
#: The codes a row may be rejected with, and the warnings a row may carry.
ERROR_REASONS = frozenset(str(r) for r in Reason if r not in WARNINGS and r not in BATCH_REASONS)
WARNING_REASONS = frozenset(str(r) for r in WARNINGS)


#: Per-example databases, files and reports go to memory where the machine has it: every
#: posting and report fsyncs, which on a disk costs more than the example's work.
SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def examples(fraction: float = 1.0) -> int:
    """A share of the loaded profile's max_examples (at least 5), for the costly tests."""
    return max(5, round(settings.default.max_examples * fraction))


# ------------------------------------------------------------------ time bound


class ExampleTimeout(BaseException):  # noqa: N818 - not an Exception: nothing may catch it
    """An example ran past its time bound. A BaseException, so that no ``except Exception``
    (the xlsx reader turns every Exception into UNREADABLE_FILE) can swallow it."""


@contextmanager
def time_bound(seconds: float, hard_seconds: float = 120.0) -> Iterator[None]:
    """Fail the example if the block runs longer than ``seconds``.

    SIGALRM interrupts Python code; a native call that never returns (and so never lets the
    handler run) is caught by faulthandler, which dumps every thread's stack and ends the
    process after ``hard_seconds``: CI fails instead of hanging.
    """
    def expire(signum, frame):  # pragma: no cover - only on a hang
        raise ExampleTimeout(f"the example ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    faulthandler.dump_traceback_later(hard_seconds, exit=True)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, previous)
    elapsed = time.monotonic() - started
    assert elapsed < seconds, f"the example took {elapsed:.1f} s (bound {seconds} s)"


# ------------------------------------------------------------------ reference data

#: (code as CS wrote it, account, SNs it covers, status, expires in days, prefill fields)
CODES: tuple[tuple[str, str, str, str, int, dict[str, str]], ...] = (
    ("K7QX-P3MZ", "I-SILVER", "", "issued", 60,
     {"recipient_name": "Jonas Weber", "recipient_city": "Hamburg", "site_address": "Am Hang 4",
      "recipient_phone": "+49 89 5550123", "installation_date": "2024-05-14"}),
    ("R4TN-8WDC", "I-SILVER", "SN100001;SN100002", "issued", 60, {}),
    ("EXPD-2222", "I-SILVER", "", "issued", -5, {}),
    ("RVKD-3333", "I-SILVER", "", "revoked", 60, {}),
    ("USED-4444", "I-SILVER", "", "redeemed", 60, {}),
    ("GOLD-5555", "I-GOLD", "", "issued", 60, {"fault_description": "Relay fault, CS checked"}),
    ("BRNZ-6666", "I-OTHER", "SN100003", "issued", 60, {}),
)
#: How submitters write codes: registered ones in other spellings, and unknown ones.
CODE_TEXTS: tuple[str, ...] = ("K7QX-P3MZ", "k7qx p3mz", "R4TN8WDC", "EXPD-2222", "rvkd 3333",
                               "USED-4444", "GOLD-5555", "BRNZ-6666", "NOPE-0000", "K7QX-P3MX")
ORIGINS: tuple[str | None, ...] = ("D-001", "I-SILVER", "I-GOLD", "I-OTHER", "X-OFF", "NOBODY",
                                   None)
#: An SN with an open claim, and a claim_ref D-001 already posted (both seeded).
OPEN_SERIAL = "OPEN000001"
POSTED_REF = "C-9"
#: I-OTHER already tried this many invalid codes within the lock-out window.
PRIOR_INVALID = {"I-OTHER": 4}


def code_frame() -> pd.DataFrame:
    return rules.codes(*[
        {"code_key": text.replace("-", ""), "code": text, "account_id": account,
         "serial_numbers": sns, "status": status,
         "expires_at": NOW + dt.timedelta(days=days), **fields}
        for text, account, sns, status, days, fields in CODES])


def reference() -> Reference:
    """The world of every batch, as the pure decision sees it."""
    return rules.reference(
        codes=code_frame(),
        open_serials=pd.DataFrame({"serial_number": [OPEN_SERIAL],
                                   "claim_id": ["RMA-2026-000001"]}),
        posted_refs=pd.DataFrame({"account_id": ["D-001"], "claim_ref": [POSTED_REF],
                                  "claim_id": ["RMA-2026-000001"]}),
        invalid_attempts=dict(PRIOR_INVALID),
    )


def seed_database(folder: Path) -> Path:
    """A migrated SQLite database holding the same world as ``reference()``; returns its
    file (copy it per example: every example starts from the same state)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "seed.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    try:
        accounts_csv = folder / "accounts.csv"
        registry = rules.DEFAULT_ACCOUNTS.assign(
            partner_level=rules.DEFAULT_ACCOUNTS["partner_level"].fillna(""), country="DE",
            active=rules.DEFAULT_ACCOUNTS["active"].map({True: "true", False: "false"}))
        registry.to_csv(accounts_csv, index=False)
        codes_csv = folder / "codes.csv"
        with codes_csv.open("w", newline="", encoding="utf-8") as fh:
            fields = sorted({f for *_, extra in CODES for f in extra})
            writer = csv.writer(fh)
            writer.writerow(["code", "account_id", "serial_numbers", "issued_at", "expires_at",
                             "status", *fields])
            for text, account, sns, status, days, extra in CODES:
                writer.writerow([text, account, sns,
                                 (NOW - dt.timedelta(days=10)).isoformat(),
                                 (NOW + dt.timedelta(days=days)).isoformat(), status,
                                 *[extra.get(f, "") for f in fields]])
        with engine.begin() as conn:
            import_accounts(conn, accounts_csv, now=NOW)
            import_codes(conn, codes_csv, now=NOW - dt.timedelta(days=10))
            conn.execute(sa.insert(t.code_attempts), [
                {"account_id": account, "code_key": f"WRONG{i}",
                 "attempted_at": NOW - dt.timedelta(hours=1), "outcome": "CODE_INVALID"}
                for account, n in PRIOR_INVALID.items() for i in range(n)])
        seed = write_csv(folder / "seed.csv",
                         [rules.claim(claim_ref=POSTED_REF, serial_number=OPEN_SERIAL)])
        result = ingest_file(seed, Origin("D-001", "seed"), engine, SETTINGS, folder, now=NOW)
        assert result.claim_ids == ["RMA-2026-000001"], result.to_json()
    finally:
        engine.dispose()
    return path


# ------------------------------------------------------------------ oracles


def claim_groups(rows: pd.DataFrame, origin: str | None,
                 registry: pd.DataFrame = rules.DEFAULT_ACCOUNTS) -> dict[tuple, list[int]]:
    """The claims of a batch by SPEC §3, worked out here rather than by the pipeline: rows
    of one account sharing a claim_ref are one claim, a row without one is a claim alone;
    refs that read alike (case, width, dashes, spacing: issue 12) are one ref.
    ``rows`` are the normalised rows (text as the format step reads the cells)."""
    by_fold = {str(a).casefold(): a for a in registry["account_id"]}
    groups: dict[tuple, list[int]] = {}
    for row, account, ref in zip(rows.index, rows["account_id"], rows["claim_ref"],
                                 strict=True):
        if origin is not None:
            who = origin
        elif account is None:
            who = ""
        else:
            who = by_fold.get(str(account).casefold(), account)
        # a missing ref is None or NaN (a column with no text at all reads as floats)
        key = ("row", row) if pd.isna(ref) else ("ref", who, _as_read(ref))
        groups.setdefault(key, []).append(int(row))
    return groups


def _as_read(ref: str) -> str:
    """A claim_ref as a person reads it: the generated refs need no more than this."""
    text = unicodedata.normalize("NFKC", ref).replace("\u2010", "-").casefold()
    return " ".join(text.split())


@dataclass
class Fates:
    """Which input rows ended up in an accepted claim, and which were rejected."""

    accepted: list[int]
    rejected: list[int]


def decision_fates(decision: Decision, groups: dict[tuple, list[int]]) -> Fates:
    """Accepted claims are named by their first row; every row of such a claim is accepted."""
    first_rows = {min(rows): rows for rows in groups.values()}
    accepted = []
    for first in decision.accepted["first_row"].astype(int):
        assert first in first_rows, f"accepted claim at row {first} starts no claim of the input"
        accepted.extend(first_rows[first])
    return Fates(accepted=accepted, rejected=list(decision.rejected_rows))


def assert_partition(fates: Fates, rows: list[int], groups: dict[tuple, list[int]],
                     errors: pd.DataFrame, warnings: pd.DataFrame, claims_accepted: int,
                     claims_rejected: int, header_row: int) -> None:
    """Invariant 1: every input row accepted or rejected exactly once; every rejected claim
    has a reason from the closed list; accepted + rejected claims = claims in the input;
    the rows of one claim share a fate. ``errors``/``warnings`` have ``row`` and ``code``."""
    everything = sorted(fates.accepted + fates.rejected)
    assert everything == sorted(rows), (
        f"rows accepted {sorted(fates.accepted)} + rejected {sorted(fates.rejected)} "
        f"are not the input rows {sorted(rows)} exactly once")
    assert claims_accepted + claims_rejected == len(groups), (
        f"{claims_accepted} accepted + {claims_rejected} rejected claims, "
        f"but the input holds {len(groups)}")
    assert set(errors["code"]) <= ERROR_REASONS, set(errors["code"]) - ERROR_REASONS
    assert set(warnings["code"]) <= WARNING_REASONS, set(warnings["code"]) - WARNING_REASONS
    known_rows = set(rows) | {header_row}
    assert set(errors["row"].astype(int)) <= set(rows), "an error names a row not in the input"
    assert set(warnings["row"].astype(int)) <= known_rows, "a warning names an unknown row"
    rejected = set(fates.rejected)
    error_rows = set(errors["row"].astype(int))
    rejected_claims = 0
    for members in groups.values():
        fate = {row in rejected for row in members}
        assert len(fate) == 1, f"the rows {members} of one claim do not share a fate"
        if fate == {True}:
            rejected_claims += 1
            assert error_rows & set(members), f"claim at rows {members} rejected without reason"
        else:
            assert not error_rows & set(members), f"claim at rows {members} accepted with errors"
    assert rejected_claims == claims_rejected


def text_claims(claims: pd.DataFrame) -> pd.DataFrame:
    """Claims as the schemas see them: canonical columns, text or None."""
    out = claims.reindex(columns=list(CANONICAL)).astype(object)
    return out.where(out.notna(), None)
