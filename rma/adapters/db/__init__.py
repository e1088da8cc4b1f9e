"""The claims database: schema, engines and migrations, repository, reference data.

    tables, engine, faults     schema, engines and migrations, which errors are transient
    repository                 the decision's lookups and the posting's writes (one Connection)
    keys, bulk                 set-based lookups per key chunk; the one bulk insert path
    batches, runs              posted batches read back (fan-out, API), inbox run records
    checks                     checked batches (decided and reported, never posted)
    identity                   portal users, sign-in links, sessions, API tokens, rate limits
    reference*, codes          account and code reference files, RMA codes

Typical use::

    engine = make_engine(settings.database_url)
    ensure_ready(engine)
    with posting_transaction(engine) as conn:
        repo = ClaimsRepository(conn)
        ...
"""

# the tables of these modules belong to the one schema (tables.metadata) wherever it is used
from rma.adapters.db import checks, identity  # noqa: F401
from rma.adapters.db.bulk import is_conflict, records
from rma.adapters.db.codes import generate_code, normalise_code, split_serials
from rma.adapters.db.engine import (
    ensure_ready,
    head_revision,
    make_engine,
    normalise_url,
    posting_transaction,
    upgrade,
)
from rma.adapters.db.reference import (
    ImportResult,
    import_accounts,
    import_codes,
    issue_code,
    unlock_codes,
)
from rma.adapters.db.repository import ClaimsRepository
from rma.errors import PostingConflict

__all__ = [
    "ClaimsRepository",
    "ImportResult",
    "PostingConflict",
    "ensure_ready",
    "generate_code",
    "head_revision",
    "import_accounts",
    "import_codes",
    "is_conflict",
    "issue_code",
    "make_engine",
    "normalise_code",
    "normalise_url",
    "posting_transaction",
    "records",
    "split_serials",
    "unlock_codes",
    "upgrade",
]
