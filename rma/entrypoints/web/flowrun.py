"""Postings from the web process: each one Prefect flow run of ``ingest-upload``, waited for
(SPEC §9: every posting from the portal or the API is a flow run operations see)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flows.upload import ingest_upload
from rma.config import Settings
from rma.service.filing import Poster


def flow_poster(settings: Settings, corrects_batch_id: str | None = None) -> Poster:
    """What posts a kept upload as one flow run and answers its batch object;
    ``corrects_batch_id``: the batch whose rows the upload corrects."""
    def post(kept: Path, name: str, account_id: str) -> dict[str, Any]:
        document: dict[str, Any] = ingest_upload(str(kept), name, account_id,
                                                 settings.database_url,
                                                 corrects_batch_id=corrects_batch_id)
        return document
    return post
