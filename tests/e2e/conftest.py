"""End-to-end fixtures: a Prefect test server for the session, the CLI run in-process or as a
real subprocess, and reference data written as the files operations would import."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from rma.entrypoints.cli import main

ROOT = Path(__file__).resolve().parents[2]
RMA = str(Path(sys.executable).with_name("rma"))

ACCOUNTS = [
    # account_id, name, kind, partner_level, emails, country, active
    ("D-001", "Solar Distribution", "distributor", "", "claims@dist.example", "DE", "true"),
    ("D-002", "Other Distribution", "distributor", "", "", "AT", "true"),
    ("I-SILVER", "Silver Installs", "installer", "silver", "", "DE", "true"),
    ("I-GOLD", "Gold Installs", "installer", "gold", "", "DE", "yes"),
    ("X-OFF", "Closed Ltd", "distributor", "", "", "GB", "false"),
]

FAR = "2099-12-31"
CODES = [
    # code, account_id, serial_numbers, issued_at, expires_at, status, recipient_city, site_address
    ("GOOD-0001", "D-001", "", "2026-01-01", FAR, "issued", "Munich", "CS Site 1"),
    ("OLD0-0002", "D-001", "", "2025-01-01", "2025-03-01", "issued", "", ""),
    ("REVK-0003", "D-001", "", "2026-01-01", FAR, "revoked", "", ""),
    ("USED-0004", "D-001", "", "2026-01-01", FAR, "redeemed", "", ""),
    ("ONLY-0005", "D-001", "SNCOVERED1", "2026-01-01", FAR, "issued", "", ""),
    ("SILV-0006", "I-SILVER", "", "2026-01-01", FAR, "issued", "", ""),
    ("SILV-0007", "I-SILVER", "", "2026-01-01", FAR, "issued", "", ""),
    ("GOLD-0008", "I-GOLD", "", "2026-01-01", FAR, "issued", "", ""),
]


def write_reference(folder: Path) -> tuple[Path, Path]:
    accounts = folder / "accounts.csv"
    with accounts.open("w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle)
        w.writerow(["account_id", "name", "kind", "partner_level", "emails", "country",
                    "active"])
        w.writerows(ACCOUNTS)
    codes = folder / "codes.csv"
    with codes.open("w", newline="", encoding="utf-8") as handle:
        w = csv.writer(handle)
        w.writerow(["code", "account_id", "serial_numbers", "issued_at", "expires_at",
                    "status", "recipient_city", "site_address"])
        w.writerows(CODES)
    return accounts, codes


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> dict:
        return json.loads(self.out)


@dataclass
class Cli:
    """Runs ``rma`` in-process (fast, under the session's Prefect API)."""

    capsys: pytest.CaptureFixture[str]

    def __call__(self, *argv: str) -> Run:
        self.capsys.readouterr()
        code = main(list(argv))
        captured = self.capsys.readouterr()
        return Run(code, captured.out, captured.err)


def seed_database(url: str, folder: Path) -> None:
    """Migrate the claims database at ``url`` and import the reference accounts and codes
    (written into ``folder`` as operations would import them)."""
    from rma.adapters.db.engine import make_engine, posting_transaction, upgrade
    from rma.adapters.db.reference_accounts import import_accounts
    from rma.adapters.db.reference_codes import import_codes

    upgrade(url)
    engine = make_engine(url)
    accounts, codes = write_reference(folder)
    try:
        with posting_transaction(engine) as conn:
            import_accounts(conn, accounts)
            import_codes(conn, codes)
    finally:
        engine.dispose()


def run_subprocess(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 300
                   ) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    return subprocess.run([RMA, *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)


def stop_server(process: subprocess.Popen[str], timeout: float = 60) -> None:
    """SIGTERM a served process (`rma web`, `rma demo --web`) and wait for its graceful end;
    killed if it does not end in ``timeout`` seconds."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
