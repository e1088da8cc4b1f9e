"""Checks of files where they lie (``rma ingest PATH... --check``, SPEC §9): each file is one
batch decided in full against the database as it is, with its reports, and recorded as
checked; nothing is posted (``rma.service.batch``, ``check=True``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from rma.config import Settings
from rma.domain.vocabulary.results import BatchResult
from rma.service.batch import ingest_file
from rma.service.origin import Origin


def reports_folder(settings: Settings) -> Path:
    """Where ``rma ingest`` writes reports: RMA_REPORTS, else ``reports/`` here."""
    return settings.reports or Path("reports")


def check_files(paths: Sequence[Path], accounts: Sequence[str | None], engine: sa.Engine,
                settings: Settings) -> list[BatchResult]:
    """Check each file as its own batch, one after the other (a check posts nothing, so no
    two of them can take the same code or SN from each other)."""
    return [ingest_file(path, Origin(account, str(path)), engine, settings,
                        reports_folder(settings), check=True)
            for path, account in zip(paths, accounts, strict=True)]
