"""Fixtures of the hostile-file tests: a claims database with reference data (made once,
copied per test), the hostile-input runner and the zip bombs. The end-to-end fixtures
(``cli``, ``workdir``) come from tests/conftest.py."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from rma.adapters.readers.messages import display_name
from tests.e2e.conftest import write_reference
from tests.hostile import builders
from tests.hostile.harness import MAX_PEAK_MB, MAX_SECONDS, Outcome, run_hostile

#: Tables a batch writes to: all must stay empty when a hostile file fails.
POSTING_TABLES = ("batches", "claims", "claim_lines", "batch_issues", "code_attempts")


@pytest.fixture(scope="session")
def reference_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite claims database holding the e2e accounts and codes."""
    from rma.adapters.db.engine import make_engine, posting_transaction, upgrade
    from rma.adapters.db.reference_accounts import import_accounts
    from rma.adapters.db.reference_codes import import_codes

    folder = tmp_path_factory.mktemp("hostile-reference")
    path = folder / "claims.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    accounts, codes = write_reference(folder)
    engine = make_engine(url)
    with posting_transaction(engine) as conn:
        import_accounts(conn, accounts)
    with posting_transaction(engine) as conn:
        import_codes(conn, codes)
    engine.dispose()
    return path


def posted_rows(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                    for t in POSTING_TABLES}
    finally:
        engine.dispose()


@dataclass
class Hostile:
    """Runs hostile files through ``rma.service.batch.ingest_file`` in a child, against a fresh copy
    of the reference database, and checks what every hostile case must show."""

    folder: Path
    url: str
    reports: Path

    def run(self, path: Path, env: dict[str, str] | None = None, **kwargs: object) -> Outcome:
        outcome = run_hostile(path, self.url, self.reports, env=env, **kwargs)
        print(f"\n{path.name}: {outcome.seconds:.2f} s, peak {outcome.peak_mb:.0f} MB")
        return outcome

    def failed(self, path: Path, code: str, env: dict[str, str] | None = None,
               max_seconds: float = MAX_SECONDS) -> str:
        """The batch of ``path`` ends ``failed`` with ``code``, within bounded time and memory,
        nothing posted, no report written; returns the message (one line, naming the file)."""
        outcome = self.run(path, env)
        assert outcome.error is None, outcome.error
        assert outcome.exit_code == 0, outcome.describe()
        assert outcome.result is not None, outcome.describe()
        assert outcome.result["status"] == "failed", outcome.describe()
        assert outcome.code == code, outcome.describe()
        assert outcome.seconds < max_seconds, outcome.describe()
        assert outcome.peak_mb < MAX_PEAK_MB, outcome.describe()
        message = outcome.message
        assert display_name(path) in message, message
        assert "\n" not in message and "\r" not in message and "Traceback" not in message
        assert outcome.result["claims_accepted"] == outcome.result["claims_rejected"] == 0
        assert outcome.result["batch_id"] is None
        assert posted_rows(self.url) == dict.fromkeys(POSTING_TABLES, 0)
        assert not self.reports.exists() or not any(self.reports.iterdir())
        return message


@pytest.fixture
def hostile(tmp_path: Path, reference_db: Path) -> Hostile:
    db = tmp_path / "claims.db"
    shutil.copyfile(reference_db, db)
    return Hostile(tmp_path, f"sqlite:///{db}", tmp_path / "reports")


@pytest.fixture(scope="session")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Zip bombs whose worksheet unpacks to 2 GiB, made once: 'honest' declares that size in
    its zip headers, 'liar' declares 20,000 bytes."""
    folder = tmp_path_factory.mktemp("bombs")
    made: dict[str, Path] = {}

    def bomb(kind: str) -> Path:
        if kind not in made:
            made[kind] = builders.write_zip_bomb(
                folder / f"{kind}-bomb.xlsx", 2 * 1024**3,
                declare=None if kind == "honest" else 20_000)
        return made[kind]

    return bomb
