"""Builders for rule tests: small claim frames and reference data, no files, no database."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from rma.config import Settings
from rma.domain.rules.decide import Decision, Policy, Reference, decide
from rma.domain.rules.formatcheck import check_rows
from rma.domain.vocabulary.columns import CANONICAL, PREFILL_FIELDS

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def claim(**fields: object) -> dict[str, object]:
    """A complete, valid claim row; keyword arguments replace or blank (None) fields."""
    row: dict[str, object] = {
        "claim_ref": None,
        "serial_number": "SN100001",
        "product_model": "HX-5000",
        "fault_description": "Inverter shows IE 01 and shuts down",
        "error_code": "IE 01",
        "installation_date": "2025-03-01",
        "fault_date": "2026-01-15",
        "recipient_name": "Anna Schmidt",
        "recipient_phone": "+49 30 1234567",
        "recipient_address": "Hauptstr. 1",
        "recipient_city": "Berlin",
        "recipient_postcode": "10115",
        "recipient_country": "DE",
        "site_address": "Feldweg 2",
        "site_country": "DE",
    }
    row.update(fields)
    return row


def frame(*rows: dict[str, object], first_row: int = 2) -> pd.DataFrame:
    data = pd.DataFrame(list(rows), index=range(first_row, first_row + len(rows)),
                        columns=list(CANONICAL), dtype=object)
    return data.astype(object).where(data.notna(), None)


def accounts(*specs: tuple[str, str, str | None, bool]) -> pd.DataFrame:
    """(account_id, kind, partner_level, active) tuples."""
    return pd.DataFrame(
        [{"account_id": a, "name": a, "kind": k, "partner_level": lvl, "active": act,
          "emails": ""} for a, k, lvl, act in specs],
        columns=["account_id", "name", "kind", "partner_level", "active", "emails"])


DEFAULT_ACCOUNTS = accounts(
    ("D-001", "distributor", None, True),
    ("I-GOLD", "installer", "gold", True),
    ("I-SILVER", "installer", "silver", True),
    ("I-OTHER", "installer", "bronze", True),
    ("X-OFF", "distributor", None, False),
)

CODE_COLUMNS = ["code_key", "code", "account_id", "serial_numbers", "issued_at", "expires_at",
                "status", *PREFILL_FIELDS]


def codes(*records: dict[str, object]) -> pd.DataFrame:
    base = {"serial_numbers": "", "issued_at": NOW - dt.timedelta(days=10),
            "expires_at": NOW + dt.timedelta(days=80), "status": "issued"}
    full = []
    for record in records:
        item = {**base, **record}
        item.setdefault("code", item["code_key"])
        full.append(item)
    return pd.DataFrame(full, columns=CODE_COLUMNS).astype(object)


def reference(**overrides: object) -> Reference:
    values: dict[str, object] = {
        "accounts": DEFAULT_ACCOUNTS,
        "codes": codes(),
        "open_serials": pd.DataFrame(columns=["serial_number", "claim_id"]),
        "posted_refs": pd.DataFrame(columns=["account_id", "claim_ref", "claim_id"]),
        "invalid_attempts": {},
    }
    values.update(overrides)
    return Reference(**values)  # type: ignore[arg-type]


def run(rows: pd.DataFrame, origin: str | None = "D-001", ref: Reference | None = None,
        policy: Policy | None = None) -> Decision:
    """Normalise, validate and decide, as the service does, minus the database."""
    policy = policy or Settings().policy(NOW)
    checked = check_rows(rows, policy.now.date())
    issues = pd.concat([checked.warnings, checked.failures])
    return decide(checked.rows, issues, origin, ref or reference(), policy)


def codes_of(decision: Decision) -> set[str]:
    return set(decision.issues["code"])
