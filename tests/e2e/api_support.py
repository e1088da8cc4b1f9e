"""The API under test: the application of ``rma web`` in-process (FastAPI's TestClient) on a
throw-away claims database seeded with the reference accounts and codes, with an API token
for each account, in a folder of its own (inbox, uploads, archive, reports beside it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from rma.adapters.db.engine import make_engine
from rma.config import load_settings
from rma.entrypoints.web.app import create_app
from rma.service.identity import create_token
from tests.e2e.conftest import seed_database
from tests.factories import valid_claim, write_csv

ACCOUNTS = ("D-001", "D-002", "I-SILVER", "I-GOLD")


@dataclass
class Api:
    client: TestClient
    engine: sa.Engine
    folder: Path
    tokens: dict[str, str]

    def auth(self, account: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[account]}"}

    def upload(self, account: str, data: bytes, name: str = "claims.csv",
               check: bool = False, **kwargs: object):
        return self.client.post("/api/v1/batches", params={"check": "true"} if check else {},
                                files={"file": (name, data)}, headers=self.auth(account),
                                **kwargs)


@contextmanager
def running_api(db_url: str, folder: Path, **env: str) -> Iterator[Api]:
    """The application on ``db_url``, its settings from the environment with ``env`` (the
    postings' flow runs read the same environment)."""
    seed_database(db_url, folder)
    (folder / "inbox").mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RMA_DATABASE_URL", db_url)
        patch.setenv("RMA_INBOX", str(folder / "inbox"))
        for name in [n for n in os.environ if n.startswith("RMA_RATE_")]:
            patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        settings = load_settings()
        engine = make_engine(db_url)
        try:
            tokens = {a: create_token(engine, a, "tests") for a in ACCOUNTS}
            with TestClient(create_app(settings, engine), raise_server_exceptions=False) \
                    as client:
                yield Api(client, engine, folder, tokens)
        finally:
            engine.dispose()


def claims_csv(folder: Path, *rows: dict[str, object], name: str = "claims.csv") -> bytes:
    return write_csv(folder / name, list(rows) or [valid_claim()]).read_bytes()
