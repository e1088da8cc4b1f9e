"""Sending a batch or filing one claim through the portal or the API (SPEC §9): the one way
both doors take, so that a claim filed on the page and one sent as JSON meet the same rules,
the same limits and the same posting.

A batch refused before it is read (format, size) runs nothing; a check is decided here and
posts nothing; a posting is the kept file handed to ``post``, which the entry point makes a
Prefect flow run (``flows/upload.py``: the service layer does not import the flows above it).
One claim is a batch of one: its columns as a one-row CSV file (``claim_file``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from rma.adapters.db.repository import ClaimsRepository
from rma.config import Settings
from rma.domain.rules.accounts import may_file_without_code
from rma.service.uploads import (
    check_upload,
    claim_file,
    content_name,
    keep_upload,
    refused_upload,
    upload_name,
)

#: posts a kept upload (where it is kept, the name it was sent as, the account) as one batch
#: and answers its batch object: the ``ingest-upload`` flow run, in the web process
Poster = Callable[[Path, str, str], dict[str, Any]]


def send_upload(data: bytes, name: str, account_id: str, engine: sa.Engine,
                settings: Settings, post: Poster, check: bool = False) -> dict[str, Any]:
    """The batch object of an upload: refused before it is read (format, size), checked
    here (``check``: nothing posted), or kept in ``uploads/`` and posted by ``post``."""
    refused = refused_upload(data, name, account_id, settings)
    if refused is not None:
        return refused.to_json()
    if check:
        return check_upload(data, name, account_id, engine, settings).to_json()
    kept = keep_upload(data, name, account_id, settings)
    return post(kept, upload_name(name), account_id)


def file_claim(claim: Mapping[str, Any], account_id: str, engine: sa.Engine,
               settings: Settings, post: Poster, check: bool = False) -> dict[str, Any]:
    """File one claim (the columns of SPEC §3, ``serial_numbers`` a list) as a batch of one;
    its batch object. ``BadClaim`` for a claim that is not such columns at all: every rule
    of a claim's values is the pipeline's, answered as the batch's rejections."""
    data = claim_file(claim)
    return send_upload(data, content_name(data), account_id, engine, settings, post, check)


def needs_code(engine: sa.Engine, settings: Settings, account_id: str) -> bool:
    """Whether the account files only with an RMA code (step 3: an installer below the
    threshold); an unknown account is answered by the pipeline (``UNKNOWN_ACCOUNT``)."""
    with engine.connect() as conn:
        registry = ClaimsRepository(conn).accounts([account_id])
    if registry.empty:
        return False
    allowed = may_file_without_code(pd.Series([account_id]), registry,
                                    settings.eligibility_threshold)
    return not bool(allowed.iloc[0])
