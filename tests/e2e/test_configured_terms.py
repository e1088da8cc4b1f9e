"""The words name the configured terms, not the defaults: under RMA_ELIGIBILITY_THRESHOLD=silver
and a lock-out of RMA_LOCKOUT_ATTEMPTS=2 within RMA_LOCKOUT_HOURS=1, the JSON of `rma ingest`,
the rejection report and the help sheet of `rma template` say Silver, 2 and 1 hour."""

from __future__ import annotations

import csv

import openpyxl
import pytest

from rma.adapters.reports.template import HELP_SHEET
from tests.factories import valid_claim, write_csv

pytestmark = pytest.mark.prefect

REQUIRED = ("Installers below the Silver level need an RMA code from Customer Service; please "
            "call or e-mail Customer Service first.")
LOCKED = ("Too many invalid RMA codes were tried from this account (the limit is 2); it is "
          "locked out of RMA codes until Customer Service lifts the lock.")
INVALID_FIX = "after 2 wrong codes in 1 hour the account is locked."


@pytest.fixture
def terms(monkeypatch, workdir):
    monkeypatch.setenv("RMA_ELIGIBILITY_THRESHOLD", "silver")
    monkeypatch.setenv("RMA_LOCKOUT_ATTEMPTS", "2")
    monkeypatch.setenv("RMA_LOCKOUT_HOURS", "1")
    bronze = workdir / "bronze.csv"
    with bronze.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([
            ["account_id", "name", "kind", "partner_level", "emails", "country", "active"],
            ["I-BRONZE", "Bronze Installs", "installer", "bronze", "", "DE", "true"]])
    return bronze


def _cells(path: str, sheet: str) -> list[str]:
    rows = openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True)
    return [str(v) for row in rows for v in row if v is not None]


def _ingest(cli, path, account: str) -> dict:
    run = cli("ingest", str(path), "--account", account, "--json")
    assert run.code == 0, run.err
    return run.json()["batches"][0]


def test_messages_report_and_template_name_the_configured_threshold_and_lock_out(
        cli, workdir, terms):
    assert cli("accounts", "import", str(terms)).code == 0
    # silver may file without a code now; bronze still needs one
    silver = _ingest(cli, write_csv(workdir / "silver.csv", [valid_claim()]), "I-SILVER")
    assert silver["claims_accepted"] == 1 and silver["rejections"] == []
    bronze = _ingest(cli, write_csv(workdir / "bronze-claims.csv", [valid_claim()]), "I-BRONZE")
    [required] = bronze["rejections"]
    assert (required["code"], required["message"]) == ("CODE_REQUIRED", REQUIRED)
    assert REQUIRED in _cells(bronze["reports"]["xlsx"], "Summary")  # its meaning

    guesses = [valid_claim(rma_code=f"GUES-000{i}") for i in range(3)]
    locked = _ingest(cli, write_csv(workdir / "guesses.csv", guesses), "I-SILVER")
    assert [(r["code"], r["message"]) for r in locked["rejections"]] == [
        ("CODE_INVALID", "The RMA code is not valid for this account."),
        ("CODE_INVALID", "The RMA code is not valid for this account."),
        ("CODE_LOCKED", LOCKED)]
    rejections = _cells(locked["reports"]["xlsx"], "Rejections")
    assert any(LOCKED in cell for cell in rejections)
    summary = _cells(locked["reports"]["xlsx"], "Summary")
    assert LOCKED in summary
    assert any(cell.endswith(INVALID_FIX) for cell in summary)
    assert not any("24 hours" in cell or "5 wrong" in cell or "Gold" in cell
                   for cell in summary + rejections)

    template = workdir / "claims-template.xlsx"
    assert cli("template", str(template)).code == 0
    help_sheet = _cells(str(template), HELP_SHEET)
    assert "Installers below Silver" in help_sheet
    assert any("Silver level or above" in cell for cell in help_sheet)
    assert not any("Gold" in cell for cell in help_sheet)
