"""The claims database: schema, engines and migrations, repository, reference data.

    tables, column_types       the schema (one MetaData) and its UTC timestamp and date types
    engine, faults             engines and migrations, which errors are transient
    repository                 the decision's lookups and the posting's writes (one Connection)
    mail_records               the e-mails taken in: found again, recorded
    keys, bulk                 set-based lookups per key chunk; the one bulk insert path
    batches, runs              posted batches read back (fan-out, API), inbox run records
    checks                     checked batches (decided and reported, never posted)
    identity                   portal users, sign-in links, sessions, API tokens, rate limits
    reference_accounts         the accounts reference file imported
    reference_codes            the RMA code file imported, a code issued, a lock-out lifted
    codes                      RMA codes and serial-number lists, pure (normalised, digested)
    reference_import           what the imports share (all-or-nothing problems, the result)
    reference_files, *_cells   reference files read, their cells parsed

Each is imported from its own module; typical use::

    engine = make_engine(settings.database_url)          # rma.adapters.db.engine
    ensure_ready(engine)
    with posting_transaction(engine) as conn:
        repo = ClaimsRepository(conn)                     # rma.adapters.db.repository
        ...
"""

# their tables belong to the one schema (tables.metadata) wherever it is used: migrations and
# their checks see them whichever module of the package was imported first
from rma.adapters.db import checks, identity  # noqa: E402, F401
